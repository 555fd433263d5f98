use telemetry::tracked_step;

struct Loader;

#[tracked_step]
impl Loader {
    fn load(&self) {}
}

fn main() {}
