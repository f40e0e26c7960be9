//go:build tools

// Package tools pins Pulumi YAML's language host so that `go build` can build it from this module
// with the versions in go.mod and go.sum: pulumi-yaml's own go.mod asks for older pkg/sdk
// versions, and requiring the CLI's here makes one build share the CLI's packages.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
