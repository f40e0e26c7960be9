//go:build tools

// Package tools pins fake-gcs-server, the Cloud Storage emulator the load job's tests write and
// read shards through, so that `go build` builds it from this module with go.mod and go.sum.
package tools

import (
	_ "github.com/fsouza/fake-gcs-server"
)
