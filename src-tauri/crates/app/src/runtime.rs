//! The tokio runtimes jobs run their async work on: a small one on a worker thread for a blocking
//! job (an API request, a sync), and one with two workers for a CLI command whose async work
//! runs beside the main thread.

/// A runtime for a blocking job's async work (an API request, a sync) on the calling worker
/// thread.
pub fn worker_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// A runtime for a CLI command whose async work runs beside the main thread (the receiver,
/// the Ctrl-C watch of a sync).
pub fn command_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
