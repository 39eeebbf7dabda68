"""The official SDK's custom authentication: a HeadersProvider that fetches its own OAuth
token from the workspace (client credentials, with the Zerobus table grant).

    headers_provider.py GRPC_URL WORKSPACE_URL CLIENT_ID CLIENT_SECRET TABLE COUNT"""

import base64
import json
import sys
import urllib.parse
import urllib.request

from zerobus.sdk.shared import HeadersProvider, TableProperties
from zerobus.sdk.sync import ZerobusSdk

grpc_url, workspace_url, client_id, client_secret, table, count = sys.argv[1:7]
count = int(count)


class ClientCredentials(HeadersProvider):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def get_headers(self):
        self.calls += 1
        catalog, schema, _ = table.split(".")
        grants = [
            {
                "type": "unity_catalog_privileges",
                "privileges": ["USE CATALOG"],
                "object_type": "CATALOG",
                "object_full_path": catalog,
            },
            {
                "type": "unity_catalog_privileges",
                "privileges": ["USE SCHEMA"],
                "object_type": "SCHEMA",
                "object_full_path": f"{catalog}.{schema}",
            },
            {
                "type": "unity_catalog_privileges",
                "privileges": ["SELECT", "MODIFY"],
                "object_type": "TABLE",
                "object_full_path": table,
                "operations": ["zerobuswrite"],
            },
        ]
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "scope": "all-apis",
                "resource": "api://databricks/workspaces/0/zerobusDirectWriteApi",
                "authorization_details": json.dumps(grants),
            }
        ).encode()
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        request = urllib.request.Request(
            f"{workspace_url}/oidc/v1/token", data=form, headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            token = json.load(reply)["access_token"]
        return [("authorization", f"Bearer {token}"), ("x-databricks-zerobus-table-name", table)]


provider = ClientCredentials()
sdk = ZerobusSdk(grpc_url, unity_catalog_url=workspace_url)
stream = sdk.create_stream(table_properties=TableProperties(table), headers_provider=provider)
last = None
for i in range(count):
    last = stream.ingest_record_offset(json.dumps({"id": i, "payload": "provided"}))
stream.flush()
stream.close()
print("last offset", last, "provider called", provider.calls > 0)
