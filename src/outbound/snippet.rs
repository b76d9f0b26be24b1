//! Short texts written by staff with template variables (canned responses, rules' replies and notices), rendered
//! with a fuel limit so an endless loop fails instead of hanging.

use minijinja::Value;

/// The work a snippet may take to render (instructions, and 64 bytes of output per unit): far more than any real
/// one needs, far less than an endless loop.
pub const SNIPPET_FUEL: u64 = 100_000;

/// Renders a snippet (plain text, minijinja syntax) with a context; one that needs more than [`SNIPPET_FUEL`]
/// fails with `ErrorKind::OutOfFuel`. Unknown variables render empty.
pub fn render(body: &str, ctx: &serde_json::Value) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_fuel(Some(SNIPPET_FUEL));
    env.render_str(body, Value::from(minijinja::value::Serde(ctx)))
}
