import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("websocket-lb-policies", { policies });
