use telemetry::tracked_step;

#[tracked_step]
fn name(id: u32) -> String {
    if id == 0 {
        return "zero";
    }
    id
}

#[tracked_step]
fn count(items: &[u32]) -> Result<usize, std::fmt::Error> {
    let parsed: u32 = "1".parse()?;
    Ok(items.len() + parsed)
}

fn main() {
    let _ = name(1);
    let _ = count(&[]);
}
