"""The official Python MCP SDK's OAuth client, driven by a Node test over stdin/stdout (JSON lines).

Usage: python mcp_oauth_client.py SERVER_URL REDIRECT_URI TOOL [TOOL ...]
where each TOOL is NAME=JSON_ARGUMENTS, called in order on one session.

The SDK does everything a host lets it do: discovery, dynamic registration (with the scope it selects: the
401's, plus offline_access), PKCE, `resource`, step-up on 403 insufficient_scope. Only the user is outside:
`redirect_handler` prints {"event": "authorize", "url": ...} and `callback_handler` reads one line back, either
{"callback": "<query of the redirect>"} (the Node side signed the user in on Keycloak's pages) or
{"error": "..."} (it could not). Events printed: register (the registration body's scope and client name),
authorize, tools, call (per TOOL: text and isError, or error), done. No token or secret is ever printed.
"""

import json
import sys
import traceback
from urllib.parse import parse_qs

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def redirect_handler(url: str) -> None:
    emit("authorize", url=url)


async def callback_handler() -> AuthorizationCodeResult:
    line = await anyio.to_thread.run_sync(sys.stdin.readline)
    answer = json.loads(line or "{}")
    if "callback" not in answer:
        raise RuntimeError(answer.get("error", "no callback"))
    query = {k: v[0] for k, v in parse_qs(answer["callback"]).items()}
    if "code" not in query:
        raise RuntimeError(f"the redirect carried no code: {query.get('error', '?')}")
    return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


async def record_registration(request: httpx2.Request) -> None:
    if request.method == "POST" and request.url.path.endswith("/clients-registrations/openid-connect"):
        body = json.loads(request.content or b"{}")
        emit("register", scope=body.get("scope"), client_name=body.get("client_name"))


def error_text(error: BaseException) -> str:
    inner = getattr(error, "exceptions", None)
    if inner:
        return "; ".join(error_text(e) for e in inner)
    return f"{type(error).__name__}: {error}"


async def main(server_url: str, redirect_uri: str, calls: list[tuple[str, dict]]) -> None:
    provider = OAuthClientProvider(
        server_url=server_url,
        client_metadata=OAuthClientMetadata(
            client_name="mcp-keycloak test (Python SDK)",
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=MemoryStorage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    hooks = {"request": [record_registration]}
    async with httpx2.AsyncClient(auth=provider, timeout=30, event_hooks=hooks) as http:
        async with streamable_http_client(server_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                with anyio.fail_after(60):
                    await session.initialize()
                    tools = await session.list_tools()
                emit("tools", names=[t.name for t in tools.tools])
                for name, arguments in calls:
                    try:
                        with anyio.fail_after(60):
                            result = await session.call_tool(name, arguments)
                        text = " ".join(getattr(c, "text", "") for c in result.content)
                        emit("call", tool=name, text=text, isError=bool(getattr(result, "is_error", None)))
                    except Exception as error:  # the SDK's own failure is the observation
                        emit("call", tool=name, error=error_text(error))
                        return


if __name__ == "__main__":
    url, redirect, *tool_args = sys.argv[1:]
    parsed = [(t.split("=", 1)[0], json.loads(t.split("=", 1)[1])) for t in tool_args]
    try:
        anyio.run(main, url, redirect, parsed)
        emit("done")
    except BaseException as error:  # noqa: BLE001 - reported, not hidden
        emit("error", message=error_text(error), trace=traceback.format_exc(limit=3))
        sys.exit(1)
