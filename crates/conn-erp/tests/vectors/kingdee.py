#!/usr/bin/env python3
"""Regenerates kingdee.json: the headers that Kingdee's own Python SDK builds.

The SDK is the PyPI package `kingdee.cdp.webapi.sdk` (module `k3cloud_webapi_sdk`);
this script calls its `WebApiClient.BuildHeader` with the clock pinned, so the
recorded headers are exactly what the SDK sends for these inputs.

    pip install kingdee.cdp.webapi.sdk==8.2.0
    python3 crates/conn-erp/tests/vectors/kingdee.py > crates/conn-erp/tests/vectors/kingdee.json

Not run in CI: CI only checks the recorded answers (tests/sdk_vectors.rs).
"""
import base64
import json
import sys
import time
from importlib import metadata

from k3cloud_webapi_sdk.core.webapi_client import WebApiClient
from k3cloud_webapi_sdk.model.identity import Identify

# Inputs chosen by us. The app id is `<client id>_<32 base64 characters>` as Kingdee issues them;
# the second part is made from fixed bytes so the vectors are reproducible.
CASES = [
    {
        "name": "execute_bill_query",
        "server_url": "http://erp.example.com/k3cloud/",
        "service": "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery",
        "app_id": "224466_" + base64.b64encode(bytes(range(24))).decode(),
        "app_secret": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "acct_id": "62f0c7b1e3a9d4",
        "username": "Administrator",
        "lcid": 2052,
        "org_num": 100,
        "unix_seconds": 1700000000,
    },
    {
        "name": "save_sales_order_chinese_user",
        "server_url": "https://k3.example.cn/k3cloud",
        "service": "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save",
        "app_id": "308912_" + base64.b64encode(bytes((7 * i + 3) % 256 for i in range(24))).decode(),
        "app_secret": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "acct_id": "20230101",
        "username": "张三",
        "lcid": 2052,
        "org_num": 0,
        "unix_seconds": 1735689600,
    },
    {
        "name": "path_with_reserved_characters",
        "server_url": "http://10.0.0.5:8090/k3 cloud/",
        "service": "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.View",
        "app_id": "1_" + base64.b64encode(bytes(255 - i for i in range(24))).decode(),
        "app_secret": "secret with spaces+plus/slash",
        "acct_id": "acct",
        "username": "demo",
        "lcid": 1033,
        "org_num": 7,
        "unix_seconds": 1,
    },
]

HEADERS = [
    "X-Api-ClientID",
    "X-Api-Auth-Version",
    "x-api-timestamp",
    "x-api-nonce",
    "x-api-signheaders",
    "X-Api-Signature",
    "X-Kd-Appkey",
    "X-Kd-Appdata",
    "X-Kd-Signature",
]


def run(case):
    client = WebApiClient()
    client.identify = Identify(
        case["server_url"], case["acct_id"], case["username"], case["app_id"],
        case["app_secret"], case["org_num"], case["lcid"], "")
    base = case["server_url"]
    url = (base if base.endswith("/") else base + "/") + case["service"] + ".common.kdsvc"
    real_time = time.time
    time.time = lambda: float(case["unix_seconds"])
    try:
        headers = client.BuildHeader(url)
    finally:
        time.time = real_time
    return {"input": dict(case, url=url), "headers": {h: headers[h] for h in HEADERS}}


def main():
    out = {
        "source": "PyPI kingdee.cdp.webapi.sdk " + metadata.version("kingdee.cdp.webapi.sdk")
        + ", k3cloud_webapi_sdk/core/webapi_client.py WebApiClient.BuildHeader",
        "cases": [run(c) for c in CASES],
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
