"""Prints the operations of botocore's cognito-idp and cognito-identity service
models on this machine as JSON: {"cognito-idp": {"Op": {"unsigned": bool}}, ...}.
Used by emulator/coverage_test.go, so that an operation new in the model shows
up as missing."""
import glob
import gzip
import json
import os

import botocore

data = os.path.join(os.path.dirname(botocore.__file__), "data")
out = {}
for svc in ("cognito-idp", "cognito-identity"):
    path = sorted(glob.glob(os.path.join(data, svc, "*", "service-2.json*")))[-1]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        model = json.load(f)
    out[svc] = {
        name: {"unsigned": op.get("authtype") == "none" or op.get("auth") == ["smithy.api#noAuth"]}
        for name, op in model["operations"].items()
    }
print(json.dumps(out))
