use telemetry::tracked_step;

struct Loader;

impl Loader {
    #[tracked_step(hash(self))]
    fn load(&self, table: &str) -> usize {
        table.len()
    }
}

fn main() {
    Loader.load("t");
}
