//! Embeds the web app (`static/`) in the binary, so a release binary copied anywhere
//! serves it, and makes cargo rebuild when it or the migrations change (`sqlx::migrate!()`
//! embeds `migrations/` at compile time). A symbolic link in `static/` is never embedded:
//! nothing outside `static/` may end up served.

use std::{
    fs,
    path::{Path, PathBuf},
};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=static");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut table = String::from(
        "/// `static/`'s files: their paths under it, and their bytes.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for path in files {
        // Named from the crate's directory as the compiler sees it, not as this script
        // did: cargo may reuse this table for a checkout elsewhere sharing the target dir.
        table.push_str(&format!(
            "    ({path:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/static/\", {path:?}))),\n"
        ));
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("static_files.rs");
    fs::write(out, table).expect("writing the embedded file table");
}

/// Every regular file under `dir`, as its path relative to `root`, with `/`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            println!("cargo:warning={} is a symbolic link: not embedded", path.display());
        } else if kind.is_dir() {
            walk(root, &path, files);
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).expect("under the root");
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>();
            files.push(relative.join("/"));
        }
    }
}
