//! Prints every e-mail template rendered with the sample context: `cargo run --example template_preview [DIR]`
//! (DIR: a templates.dir with overrides to preview).

fn main() {
    let dir = std::env::args().nth(1).map(std::path::PathBuf::from);
    let templates = match deskmail::outbound::templates::Templates::load(dir.as_deref(), &[]) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    for kind in deskmail::outbound::templates::KINDS {
        match templates.render(kind, &deskmail::outbound::templates::sample_context(kind)) {
            Ok(r) => println!("==== {kind}\nSubject: {}\n\n{}\n", r.subject, r.text.trim_end()),
            Err(e) => eprintln!("{kind}: {e}"),
        }
    }
}
