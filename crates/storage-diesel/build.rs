use std::path::Path;

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn hash_dir(dir: &Path, hash: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        fnv1a(
            hash,
            path.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        if path.is_dir() {
            hash_dir(&path, hash);
        } else if let Ok(bytes) = std::fs::read(&path) {
            fnv1a(hash, &bytes);
        }
    }
}

fn main() {
    // Embedded migrations: a new or changed migration file must rebuild the crate.
    println!("cargo:rerun-if-changed=../../migrations");
    // Test databases clone a template named after the PostgreSQL migrations,
    // so runs with the same migrations share one template (feature test-support).
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    hash_dir(Path::new("../../migrations/postgres"), &mut hash);
    println!("cargo:rustc-env=MS_PG_MIGRATIONS_HASH={hash:016x}");
}
