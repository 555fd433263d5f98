use telemetry::tracked_step;

#[tracked_step(hash(x))]
fn position((x, y): (u32, u32)) -> u32 {
    x + y
}

fn main() {
    position((1, 2));
}
