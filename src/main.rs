//! The `deskmail` binary: parse the command line, set up logging, run the command.

use clap::Parser;

fn main() {
    rustls::crypto::ring::default_provider().install_default().expect("a single rustls crypto provider");
    let cli = deskmail::cli::Cli::parse();
    deskmail::telemetry::init(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = runtime.block_on(deskmail::cli::run(cli));
    std::process::exit(code);
}
