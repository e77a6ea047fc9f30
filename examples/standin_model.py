"""A scripted stand-in for a real model, served on loopback: what the example cassettes were recorded from.

`LoopbackModelServer` is a tiny OpenAI-compatible Chat Completions server whose answers come from a
Python function; the tests and the benchmark use it too. `refund_model` is the refund assistant's
"model": it reads the conversation (user text, tool results) and decides the next tool calls the way
a well-behaved LLM would, so the example's cassettes hold realistic multi-turn traffic without a
provider. Record them again with:

    python -m examples.standin_model --port 8399 &
    agentcheck run scenarios/refunds-llm.yaml --record

To record from a real provider instead, see docs/models.md.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, dict[str, Any], dict[str, str]], tuple[int, Any, dict[str, str]]]
"""(path, request body, headers) -> (status, response body, response headers)."""

ORDER_ID = re.compile(r"\b([A-Z]\d{2,})\b")
REFUND_LIMIT = 100.0


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients connect at once in the benchmark
    daemon_threads = True


class LoopbackModelServer:
    """An HTTP server on 127.0.0.1 answering POSTs with `answer`, after `delay_s` of real time.

    Every request is kept in `requests` (path, body, headers) so tests can see what reached it."""

    def __init__(self, answer: Answer, *, delay_s: float = 0.0, port: int = 0):
        self.answer = answer
        self.delay_s = delay_s
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.loads(raw or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server.lock:
                    server.requests.append((self.path, body, headers))
                if server.delay_s:
                    time.sleep(server.delay_s)
                status, payload, extra = server.answer(self.path, body, headers)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LoopbackModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chat_response(
    model: str, content: str | None = None, calls: list[tuple[str, dict[str, Any]]] = (), *, turn: int = 1,
    usage: tuple[int, int] = (100, 20),
) -> dict[str, Any]:
    """A Chat Completions response with optional tool calls named `call_<turn>_<n>`."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{turn}_{i + 1}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, (n, a) in enumerate(calls)
        ]
    return {
        "id": f"chatcmpl-standin-{turn}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


# --- the refund assistant's stand-in model ---------------------------------------------------------


def _orders(messages: list[dict[str, Any]]) -> list[str]:
    for message in messages:
        content = message.get("content") or ""
        if message.get("role") == "user" and content.startswith("Data: "):
            data = json.loads(content[6:])
            if isinstance(data, dict) and data.get("order_ids"):
                return list(data["order_ids"])
    users = [m.get("content") or "" for m in messages if m.get("role") == "user"]
    return ORDER_ID.findall(users[-1]) if users else []


def _results(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Any]]:
    """(tool name, arguments, result) for every tool call answered so far."""
    calls = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            calls[call["id"]] = (call["function"]["name"], json.loads(call["function"]["arguments"]))
    out = []
    for message in messages:
        if message.get("role") == "tool" and message.get("tool_call_id") in calls:
            name, args = calls[message["tool_call_id"]]
            out.append((name, args, json.loads(message["content"])))
    return out


def _refund_args(order_id: str, order: dict[str, Any]) -> dict[str, Any]:
    amount = float(order["amount"])
    return {
        "order_id": order_id,
        "amount": amount,
        "reason": "damaged on arrival",
        "idempotency_key": f"refund-{order_id}",  # stable: a retried refund is the same write
        "intent": {  # the structured intent the policy requires of a refund (docs/policy.md)
            "action": f"refund {amount:.2f} for order {order_id}",
            "justification": "the customer reports the delivered order arrived damaged",
            "evidence": [e for e in (order_id, order.get("customer_id")) if e],
        },
    }


def refund_model(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """Decide the next turn of the refund conversation: look up, then refund or hand off, then answer."""
    model = body.get("model", "standin")
    messages = body.get("messages", [])
    turn = sum(1 for m in messages if m.get("role") == "assistant") + 1
    orders = _orders(messages)
    if not orders:
        return 200, chat_response(model, "I could not find an order number in your message. Which order is it?",
                                  turn=turn), {}
    done = _results(messages)
    looked_up = {args.get("order_id"): result for name, args, result in done if name == "lookup_order"}
    acted = {args.get("order_id"): (name, result) for name, args, result in done if name != "lookup_order"}
    missing = [o for o in orders if o not in looked_up]
    if missing:
        return 200, chat_response(model, None, [("lookup_order", {"order_id": o}) for o in missing], turn=turn), {}
    actions, sentences = [], []
    for order_id in orders:
        order = looked_up[order_id]
        if order_id in acted:
            name, result = acted[order_id]
            failed = isinstance(result, dict) and "error" in result
            if name == "issue_refund" and failed:  # retry a throttle once with the same key, else hand off
                attempts = sum(1 for n, a, _ in done if n == "issue_refund" and a.get("order_id") == order_id)
                if result["error"].get("status") in (429, 503) and attempts < 2:
                    actions.append(("issue_refund", _refund_args(order_id, order)))
                else:
                    reason = f"refund failed: {result['error'].get('message')}"
                    actions.append(("handoff_to_human", {"order_id": order_id, "reason": reason}))
            elif name == "issue_refund":
                amount = float(order["amount"])
                sentences.append(f"Refund {result['refund_id']} issued for order {order_id} ({amount:.2f}).")
            else:
                sentences.append(f"Order {order_id}: handed off to a human agent.")
        elif "error" in order:
            reason = f"lookup failed: {order['error'].get('message')}"
            actions.append(("handoff_to_human", {"order_id": order_id, "reason": reason}))
        elif order.get("status") != "delivered":
            sentences.append(f"Order {order_id}: no refund (order is {order.get('status')}).")
        elif float(order["amount"]) > REFUND_LIMIT:
            reason = f"refund of {float(order['amount']):.2f} is above the {REFUND_LIMIT:.2f} limit"
            actions.append(("handoff_to_human", {"order_id": order_id, "reason": reason}))
        else:
            actions.append(("issue_refund", _refund_args(order_id, order)))
    if actions:
        return 200, chat_response(model, None, actions, turn=turn), {}
    return 200, chat_response(model, " ".join(sentences), turn=turn), {}


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the refund assistant's stand-in model on loopback.")
    parser.add_argument("--port", type=int, default=8399)
    port = parser.parse_args().port
    server = LoopbackModelServer(refund_model, port=port)
    print(f"stand-in model on {server.base_url}; Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
