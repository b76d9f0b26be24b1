//! A realistic template context for previews, checks and tests.

use serde_json::{Value, json};

const CUSTOMER_TEXT: &str = "Hello,\n\nthe desk lamp from order 100023 arrived today with a cracked shade.\n\
The box looked fine, so it must have broken before packing.\n\nCan you send a replacement?\n\nThanks,\nJosé";

const AGENT_TEXT: &str = "Hello José,\n\nI'm sorry the lamp arrived broken. We have sent a replacement shade today;\n\
you don't need to return the broken one.\n\nBest regards,";

/// A realistic context for previews and tests (ticket 1042 "Lamp arrived broken", customer José Pérez, agent Ana, a linked order …).
pub fn sample_context(kind: &str) -> Value {
    if let Some(ctx) = account_context(kind) {
        return ctx;
    }
    let customer = json!({ "name": "José Pérez", "email": "jose.perez@example.com" });
    let ana = json!({
        "name": "Ana García",
        "email": "ana@lamps.example",
        "signature": "Ana García\nCustomer care, Lamps & Co.",
    });
    let bruno = json!({ "name": "Bruno Keller", "email": "bruno@lamps.example" });
    let status = match kind {
        "ack" | "notify_new_ticket" => "new",
        "agent_reply" | "rule_reply" => "pending",
        "resolved" | "agent_command_result" => "resolved",
        _ => "open",
    };
    let from_agent = kind == "agent_reply" || kind == "rule_reply";
    let message = json!({
        "body": if from_agent { AGENT_TEXT } else { CUSTOMER_TEXT },
        "from_name": if from_agent { "Ana García" } else { "José Pérez" },
        "from_email": if from_agent { "ana@lamps.example" } else { "jose.perez@example.com" },
        "created_at": "2025-03-14T09:26:53Z",
    });
    let mut ctx = json!({
        "ticket": {
            "number": 1042,
            "subject": "Lamp arrived broken",
            "status": status,
            "priority": "normal",
            "url": "https://desk.lamps.example/tickets/1042",
            "created_at": "2025-03-14T09:12:05Z",
        },
        "customer": customer,
        "recipient": customer,
        "message": message,
        "mailbox": { "name": "support", "address": "support@lamps.example", "display_name": "Lamps & Co. Support" },
        "links": {
            "orders": [{
                "number": "100023", "status": "shipped", "total": "89.90", "currency": "EUR",
                "url": "https://shop.lamps.example/admin/orders/100023",
            }],
            "order_lines": [{ "ref": "LMP-204", "title": "Desk lamp Aalto, brass", "quantity": 1, "status": "shipped" }],
            "products": [{ "ref": "LMP-204", "title": "Desk lamp Aalto, brass", "url": "https://shop.lamps.example/p/lmp-204" }],
        },
        "portal_url": "https://help.lamps.example/requests/1042",
    });
    match kind {
        "agent_reply" | "resolved" => ctx["agent"] = ana,
        "notify_new_ticket" | "notify_customer_replied" => ctx["recipient"] = ana,
        "rule_notice" => {
            ctx["recipient"] = ana;
            ctx["rule"] =
                json!({ "name": "Refunds are urgent", "body": "A refund request came in: please look today." });
        }
        "notify_assigned" => {
            ctx["agent"] = ana;
            ctx["recipient"] = bruno;
        }
        "agent_command_result" => {
            ctx["agent"] = ana.clone();
            ctx["recipient"] = ana;
            ctx["command"] = json!({
                "results": ["Status set to resolved", "Priority set to high"],
                "errors": ["#assign kim@lamps.example: no agent has this address"],
                "note": true,
            });
        }
        _ => {}
    }
    ctx
}

/// The context of a mail about a staff account (invitation, password reset): no ticket.
fn account_context(kind: &str) -> Option<Value> {
    let (path, hours) = match kind {
        "user_invite" => ("invite", 72),
        "password_reset" => ("password/reset", 1),
        "mailbox_alert" => {
            return Some(json!({
                "user": { "name": "Ana García", "email": "ana@lamps.example" },
                "alert": {
                    "mailbox": "support",
                    "error": "token refresh failed: invalid_grant: Token has been expired or revoked.",
                    "failing_since": "2025-03-14T09:12:05Z",
                    "link": "https://desk.lamps.example/admin/mailboxes",
                },
                "mailbox": { "name": "sales", "address": "sales@lamps.example", "display_name": "Lamps & Co. Sales" },
            }));
        }
        "portal_login" => {
            return Some(json!({
                "user": { "name": "Kim Weber", "email": "kim@example.org" },
                "link": "https://desk.lamps.example/portal/login/Zq3xW8pLm2Rt6YvB9nKc4Hd7JfGs5EaT",
                "expires_minutes": 30,
                "mailbox": { "name": "support", "address": "support@lamps.example", "display_name": "Lamps & Co. Support" },
            }));
        }
        _ => return None,
    };
    Some(json!({
        "user": { "name": "Bruno Keller", "email": "bruno@lamps.example" },
        "link": format!("https://desk.lamps.example/{path}/Zq3xW8pLm2Rt6YvB9nKc4Hd7JfGs5EaT"),
        "expires_hours": hours,
        "mailbox": { "name": "support", "address": "support@lamps.example", "display_name": "Lamps & Co. Support" },
    }))
}
