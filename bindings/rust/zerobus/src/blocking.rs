//! The `tokio` feature's way to run what the library can only do blocking (opening a stream):
//! on tokio's blocking pool, awaited without blocking the executor.

/// Runs `work` on tokio's blocking pool and returns what it returns; a panic in it resumes in
/// the awaiting task.
pub(crate) async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
