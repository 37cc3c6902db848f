"""Real-client suite: the official Python `mcp` SDK against a Hubmesh hub, over streamable HTTP
or stdio.

Two agents (A and B) each hold their own connection. The suite lists the tools and checks every
core tool is there with a schema, then plays the scenario: A and B exchange a message and a reply
in one thread (A hears of B's message by subscription over HTTP), B requests a capability A
registered and A moves it through its lifecycle, an alert is raised, acknowledged and resolved,
and bad calls come back as tool errors while the session goes on. It prints one line per step
and `ALL OK` at the end; any failure exits non-zero.

    python client_suite.py http URL TOKEN_A TOKEN_B READER_TOKEN
    python client_suite.py stdio COMMAND [ARG...]

In stdio mode each agent runs COMMAND as its own process, with HUBMESH_MCP_CLIENT_ID and
HUBMESH_MCP_CLIENT_SECRET set from HUBMESH_MCP_CLIENT_ID_<X> and HUBMESH_MCP_CLIENT_SECRET_<X>,
X in A, B, READER.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from contextlib import AsyncExitStack
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.subscriptions import ResourceUpdated

CORE_TOOLS = [
    "get_state_summary", "get_domain_summary", "list_domains", "whoami",
    "send_message", "get_messages", "get_thread", "mark_message_read", "acknowledge_message",
    "reply_to_message",
    "register_capability", "list_capabilities", "request_capability", "accept_capability_request",
    "update_capability_request_status", "list_capability_requests", "get_capability_request",
    "register_repo", "update_repo_path", "list_domain_repos",
    "register_service", "list_services", "ingest_tpsc_tool", "get_gdpr_report",
    "record_event", "get_risks", "get_alerts", "raise_alert", "acknowledge_alert", "resolve_alert",
    "heartbeat", "list_agents",
]

WAIT = 15.0


def step(text: str) -> None:
    print(f"ok - {text}", flush=True)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


class Agent:
    """One agent's connection, with helpers that assert success or a tool error."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    async def ok(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        res = await self.client.call_tool(tool, args or {})
        check(not res.is_error, f"{self.name}: {tool} failed: {res.content}")
        check(isinstance(res.structured_content, dict), f"{tool}: no structured content")
        return res.structured_content

    async def fails(self, tool: str, args: dict[str, Any], needle: str) -> str:
        res = await self.client.call_tool(tool, args)
        check(res.is_error is True, f"{self.name}: {tool} {args} should fail: {res.structured_content}")
        text = " ".join(getattr(c, "text", "") for c in res.content)
        check(needle.lower() in text.lower(), f"{tool}: {needle!r} not in {text!r}")
        return text


def http_client(url: str, token: str, **kw: Any) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(url, http_client=http), cache=None, **kw)


def stdio_client(command: list[str], agent: str, **kw: Any) -> Client:
    env = dict(os.environ)
    env["HUBMESH_MCP_CLIENT_ID"] = os.environ[f"HUBMESH_MCP_CLIENT_ID_{agent}"]
    env["HUBMESH_MCP_CLIENT_SECRET"] = os.environ[f"HUBMESH_MCP_CLIENT_SECRET_{agent}"]
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    return Client(params, cache=None, **kw)


async def tool_list(a: Agent, reader: Agent) -> None:
    tools = {t.name: t for t in (await a.client.list_tools()).tools}
    for name in CORE_TOOLS:
        check(name in tools, f"tool {name} missing")
        t = tools[name]
        check(bool(t.description), f"{name} has no description")
        check(t.input_schema.get("type") == "object", f"{name} has no object schema")
    step(f"tools/list has all {len(CORE_TOOLS)} core tools, each with a description and a schema")
    send = tools["send_message"].input_schema
    check("recipients" in send.get("required", []), "send_message requires recipients")
    check("description" in send["properties"]["recipients"], "recipients is described")
    step("schemas carry required fields and field descriptions")
    reader_tools = {t.name for t in (await reader.client.list_tools()).tools}
    check("get_messages" in reader_tools and "send_message" not in reader_tools,
          f"a reader sees only reading tools: {sorted(reader_tools)}")
    step("a hub:read principal sees no writing tools")
    resources = {r.uri for r in (await a.client.list_resources()).resources}
    for uri in ["hub://state-summary", "hub://domains", "hub://inbox"]:
        check(uri in resources, f"resource {uri} missing")
    step("resources hub://state-summary, hub://domains, hub://inbox are listed")


async def messages(a: Agent, b: Agent, a_sub: str, b_sub: str, push: bool) -> None:
    me = await a.ok("whoami")
    check(me["sub"] == a_sub, f"whoami: {me}")
    await a.ok("heartbeat", {"status": "testing"})
    agents = await b.ok("list_agents", {"online": True})
    check(any(x["sub"] == a_sub for x in agents["items"]), f"A is online: {agents}")
    step("whoami, heartbeat and list_agents")

    async def send() -> dict[str, Any]:
        return await b.ok("send_message", {
            "recipients": [a_sub], "subject": "build broken", "body": "main fails since 10:02",
            "importance": "high", "ack_required": True,
        })

    if push:
        async with a.client.listen(resource_subscriptions=["hub://inbox"]) as sub:
            check(sub.honored.resource_subscriptions == ["hub://inbox"], f"honored: {sub.honored}")
            sent = await send()
            event = await asyncio.wait_for(anext(sub), WAIT)
            check(isinstance(event, ResourceUpdated) and event.uri == "hub://inbox", f"event: {event}")
        step("A subscribed to hub://inbox and was told when B's message arrived")
    else:
        sent = await send()
    inbox = await a.ok("get_messages", {"unread_only": True})
    check([m["id"] for m in inbox["items"]] == [sent["id"]], f"A's unread inbox: {inbox}")
    check(inbox["items"][0]["sender"] == b_sub, "the sender is the caller")
    step("B sent A a message; A's unread inbox holds it")

    reply = await a.ok("reply_to_message", {"id": sent["id"], "body": "looking at it"})
    check(reply["thread_id"] == sent["thread_id"], "the reply is in the thread")
    check(reply["subject"] == "Re: build broken", f"reply subject: {reply['subject']}")
    await a.ok("acknowledge_message", {"id": sent["id"]})
    read = await b.ok("mark_message_read", {"id": reply["id"]})
    check(read["read_at"] is not None, "B read the reply")
    thread = await b.ok("get_thread", {"thread_id": sent["thread_id"]})
    check([m["id"] for m in thread["items"]] == [sent["id"], reply["id"]], f"thread: {thread}")
    unread = await a.ok("get_messages", {"unread_only": True})
    check(unread["items"] == [], "acknowledging marked A's message read")
    step("A replied in the thread and acknowledged; B read the reply; the thread shows both")

    await a.fails("mark_message_read", {"id": "no-such-message"}, "not found")
    await a.fails("send_message", {"recipients": [], "subject": "x", "body": "y"}, "recipients")
    await a.fails("get_messages", {"limit": "many"}, "invalid type")
    await a.fails("get_thread", {"thread_id": sent["thread_id"], "cursor": "bogus"}, "cursor")
    step("unknown ids, invalid values, wrong types and bad cursors are tool errors")


async def capabilities(a: Agent, b: Agent, a_sub: str) -> None:
    cap = await a.ok("register_capability", {
        "name": "summarize_logs", "description": "Summarize a day of logs",
        "input_schema": {"type": "object", "properties": {"day": {"type": "string"}}},
    })
    check(cap["provider"] == a_sub, f"provider: {cap}")
    await a.fails("register_capability", {"name": "summarize_logs"}, "exists")
    found = await b.ok("list_capabilities", {"q": "logs"})
    check([c["name"] for c in found["items"]] == ["summarize_logs"], f"catalog: {found}")
    req = await b.ok("request_capability", {"capability": "summarize_logs", "input": {"day": "2026-11-22"}})
    check(req["status"] == "requested" and req["provider"] == a_sub, f"request: {req}")
    mine = await a.ok("list_capability_requests", {"role": "provider", "status": "requested"})
    check([r["id"] for r in mine["items"]] == [req["id"]], f"A's requests: {mine}")
    await b.fails("accept_capability_request", {"id": req["id"]}, "forbidden")
    await a.ok("accept_capability_request", {"id": req["id"]})
    await a.ok("update_capability_request_status", {"id": req["id"], "status": "in_progress"})
    done = await a.ok("update_capability_request_status", {
        "id": req["id"], "status": "fulfilled", "result": {"summary": "quiet day"},
    })
    check(done["status"] == "fulfilled", f"fulfilled: {done}")
    got = await b.ok("get_capability_request", {"id": req["id"]})
    check(got["result"] == {"summary": "quiet day"}, f"B sees the result: {got}")
    await a.fails("update_capability_request_status", {"id": req["id"], "status": "in_progress"}, "conflict")
    await b.fails("update_capability_request_status", {"id": req["id"], "status": "paused"}, "unknown variant")
    step("B requested A's capability; A accepted, worked and fulfilled it; illegal moves are tool errors")


async def alerts(a: Agent, b: Agent) -> None:
    raised = await b.ok("raise_alert", {"key": "disk-full", "summary": "db disk at 95%", "severity": "critical"})
    check(raised["state"]["state"] == "open", f"raised: {raised}")
    open_alerts = await a.ok("get_alerts", {})
    check([x["key"] for x in open_alerts["items"]] == ["disk-full"], f"open alerts: {open_alerts}")
    await a.ok("acknowledge_alert", {"key": "disk-full", "note": "on it"})
    resolved = await a.ok("resolve_alert", {"key": "disk-full", "note": "rotated logs"})
    check(resolved["state"]["state"] == "resolved", f"resolved: {resolved}")
    await a.fails("resolve_alert", {"key": "disk-full"}, "conflict")
    still_open = await a.ok("get_alerts", {})
    check(still_open["items"] == [], "no open alerts after resolving")
    step("B raised an alert; A acknowledged and resolved it; resolving twice is a tool error")


async def orientation(a: Agent, reader: Agent) -> None:
    summary = await a.ok("get_state_summary")
    check(summary["counts"]["messages"] >= 2, f"summary: {summary}")
    read = await a.client.read_resource("hub://state-summary")
    check("messages" in read.contents[0].text, "hub://state-summary reads")
    await reader.fails("send_message", {"recipients": ["x"], "subject": "s", "body": "b"}, "write")
    await a.fails("get_domain_summary", {"domain": "nowhere"}, "not found")
    me = await a.ok("whoami")
    check(bool(me["sub"]), "the session goes on after tool errors")
    step("state summary as tool and resource; missing permission is a tool error; the session goes on")


async def legacy_subscription(url: str, token_a: str, token_b: str, a_sub: str) -> None:
    """The 2025-11-25 lifecycle: resources/subscribe and notifications over the session stream."""
    updates: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if getattr(root, "method", None) == "notifications/resources/updated":
            await updates.put(root.params.uri)

    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(http_client(url, token_a, mode="legacy", message_handler=on_message))
        b = Agent(await stack.enter_async_context(http_client(url, token_b, mode="legacy")), "B")
        check(a.protocol_version == "2025-11-25", f"legacy version: {a.protocol_version}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await a.subscribe_resource("hub://inbox")
        await b.ok("send_message", {"recipients": [a_sub], "subject": "ping", "body": "legacy"})
        uri = await asyncio.wait_for(updates.get(), WAIT)
        check(uri == "hub://inbox", f"updated: {uri}")
    step("over the 2025-11-25 lifecycle, resources/subscribe pushes notifications/resources/updated")


async def main() -> None:
    mode = sys.argv[1]
    async with AsyncExitStack() as stack:
        if mode == "http":
            url, token_a, token_b, token_r = sys.argv[2:6]
            make = lambda token: http_client(url, token)  # noqa: E731
        else:
            command = sys.argv[2:]
            token_a, token_b, token_r = "A", "B", "READER"
            make = lambda agent: stdio_client(command, agent)  # noqa: E731
        a = Agent(await stack.enter_async_context(make(token_a)), "A")
        b = Agent(await stack.enter_async_context(make(token_b)), "B")
        reader = Agent(await stack.enter_async_context(make(token_r)), "reader")
        step(f"{mode}: three sessions negotiated protocol {a.client.protocol_version}")
        a_sub = (await a.ok("whoami"))["sub"]
        b_sub = (await b.ok("whoami"))["sub"]
        await tool_list(a, reader)
        # Each stdio session is its own process: a push from B's process cannot reach A's.
        await messages(a, b, a_sub, b_sub, push=mode == "http")
        await capabilities(a, b, a_sub)
        await alerts(a, b)
        await orientation(a, reader)
        if mode == "http":
            profiled = await stack.enter_async_context(http_client(url + "?profile=messaging", token_a))
            names = {t.name for t in (await profiled.list_tools()).tools}
            check("send_message" in names and "whoami" in names and "register_repo" not in names,
                  f"messaging profile: {sorted(names)}")
            step("?profile=messaging narrows tools/list to messaging plus orientation tools")
            await legacy_subscription(url, token_a, token_b, a_sub)
    print("ALL OK", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
