//! The `cutover` binary: everything lives in the library; this only hands over the command line.

fn main() -> std::process::ExitCode {
    // Before any thread starts: every thread must share one kernel session keyring.
    cutover::secrets::prepare_process();
    cutover::cli::main()
}
