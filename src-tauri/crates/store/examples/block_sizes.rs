//! How large raw-event blocks (migration 0021) should be: the touch payloads of a workspace,
//! in arrival order, framed as `raw_blocks` frames them (a flag byte, then the external id and
//! the payload each after its u32 length) and compressed with zstd level 3 in blocks of 1,024
//! to 16,384 events, with and without a 16 KiB dictionary trained on the first 1,000 payloads.
//! Prints bytes per event for each.
//!
//! Run: `cargo run --release -p lookback-store --example block_sizes -- WORKSPACE.lookback
//! [EVENTS]` (opened read-only; EVENTS, default 1,000,000, caps how many are read).

use lookback_store::Store;

fn frame(events: &[(String, String)]) -> Vec<u8> {
    let mut frame = Vec::new();
    for (id, payload) in events {
        frame.push(0);
        for text in [id, payload] {
            frame.extend_from_slice(&(text.len() as u32).to_le_bytes());
            frame.extend_from_slice(text.as_bytes());
        }
    }
    frame
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: block_sizes WORKSPACE.lookback [EVENTS]")?;
    let limit: usize = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let store = Store::open_read_only(&path)?;
    let mut events = Vec::new();
    store.for_each_raw_event(|e| {
        if events.len() < limit && e.stream == "touches" {
            events.push((e.external_id, e.payload));
        }
    })?;
    let raw: usize = events.iter().map(|(i, p)| i.len() + p.len()).sum();
    println!(
        "{} touch payloads, {:.1} bytes each (id + payload) uncompressed",
        events.len(),
        raw as f64 / events.len() as f64
    );
    let samples: Vec<&[u8]> = events
        .iter()
        .take(1_000)
        .map(|(_, p)| p.as_bytes())
        .collect();
    let dictionary = zstd::dict::from_samples(&samples, 16 * 1024)?;
    for size in [1_024, 4_096, 8_192, 16_384] {
        let mut plain = 0;
        let mut with_dictionary = 0;
        let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &dictionary)?;
        for block in events.chunks(size) {
            let frame = frame(block);
            plain += zstd::bulk::compress(&frame, 3)?.len();
            with_dictionary += compressor.compress(&frame)?.len();
        }
        println!(
            "blocks of {size:>6}: {:.1} B/event, with a dictionary {:.1} B/event",
            plain as f64 / events.len() as f64,
            with_dictionary as f64 / events.len() as f64
        );
    }
    Ok(())
}
