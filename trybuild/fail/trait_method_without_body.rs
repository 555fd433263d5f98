use telemetry::tracked_step;

trait Step {
    #[tracked_step]
    fn run(&self, input: &str) -> bool;
}

fn main() {}
