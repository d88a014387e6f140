fn main() {
    // Embedded migrations: a new or changed migration file must rebuild the crate.
    println!("cargo:rerun-if-changed=../../migrations");
}
