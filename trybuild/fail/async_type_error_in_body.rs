use telemetry::tracked_step;

#[tracked_step]
async fn name(id: u32) -> String {
    if id == 0 {
        return "zero";
    }
    id
}

#[tracked_step]
async fn unit(id: u32) {
    id
}

#[tracked_step]
async fn count(items: &[u32]) -> Result<usize, std::fmt::Error> {
    let parsed: u32 = "1".parse()?;
    Ok(items.len() + parsed as usize)
}

fn main() {
    let _ = name(1);
    let _ = unit(1);
    let _ = count(&[]);
}
