"""A tiny support agent to start from: read the ticket, reply to it.

Replace it with your own agent: any function `run(task, tools, context)` that calls its tools
through `tools` and returns its final answer works with `kind: python`.
"""

import re


def run(task, tools, context):
    match = re.search(r"\bT-\d+\b", task.text)
    if match is None:
        return "Which ticket do you mean?"
    ticket = tools.get_ticket(ticket_id=match.group(0))
    tools.reply_to_ticket(ticket_id=ticket["id"], body=f"Hi {ticket['customer']}, we are on it.")
    return f"Replied to {ticket['id']}."
