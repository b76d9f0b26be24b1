//! The `deskmail` binary: parse the command line, set up logging, run the command.

use clap::Parser;

fn main() {
    deskmail::platform::memory::limit_malloc_arenas();
    rustls::crypto::ring::default_provider().install_default().expect("a single rustls crypto provider");
    let cli = deskmail::cli::Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        // --help and --version are successes; every real usage error exits 64 (EX_USAGE) as the contract says.
        std::process::exit(if e.use_stderr() { deskmail::cli::exit::USAGE } else { 0 });
    });
    deskmail::platform::telemetry::init(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(deskmail::cli::run(cli));
    std::process::exit(code);
}
