//! A function that never returns (`-> !`).
#![deny(warnings)]

use telemetry::tracked_command;

#[tracked_command]
fn serve(port: u16) -> ! {
    panic!("no server on port {port}")
}

#[tracked_command]
async fn serve_async(port: u16) -> ! {
    std::future::pending::<()>().await;
    panic!("no server on port {port}")
}

pub fn main() {
    let result = std::panic::catch_unwind(|| serve(8080));
    assert!(result.is_err());
    drop(serve_async(8080));
}
