import { PolicyPack } from "@pulumi/policy";
import { deserializeOnce } from "./lib/deserialize-once";
import { policies } from "./policies";

deserializeOnce();
new PolicyPack("websocket-lb-policies", { policies });
