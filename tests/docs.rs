//! Keeps the documentation true to the code: every command in the table is in
//! docs/commands.md, and every command the doc lists exists.

use tenantkv::command::registry::REGISTRY;

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md"))
        .expect("docs/commands.md")
}

#[test]
fn docs_list_every_command() {
    let doc = doc();
    for e in &REGISTRY.entries {
        let shown = format!("`{}`", e.fullname.to_uppercase().replace('|', " "));
        assert!(doc.contains(&shown), "docs/commands.md lacks {shown}");
    }
}

#[test]
fn docs_list_no_missing_command() {
    let doc = doc();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let name = line.split('`').nth(1).expect("quoted name").to_lowercase();
        let mut parts = name.split(' ');
        let top = REGISTRY.find(parts.next().unwrap().as_bytes());
        let found = match (top, parts.next()) {
            (Some(_), None) => true,
            (Some(id), Some(sub)) => REGISTRY.find_sub(id, sub.as_bytes()).is_some(),
            _ => false,
        };
        assert!(found, "docs/commands.md lists {name}, which does not exist");
    }
}
