//! Every `cargo xtask …` command the README and docs show exists, with the flags they show: a
//! renamed command or flag fails here before it misleads someone at 3 a.m.

use std::path::PathBuf;

use clap::CommandFactory;

fn documents() -> Vec<PathBuf> {
    let root = xtask::workspace_root();
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

/// Each `cargo xtask` invocation in `text`: the words after it up to the end of the line, the
/// end of an inline code span, or a shell operator.
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("cargo xtask ") {
            rest = &rest[at + "cargo xtask ".len()..];
            let words: Vec<String> = rest
                .split(['`', '#', '|', ')', ';', '&'])
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(|w| w.trim_end_matches([',', '.', ':']).to_string())
                .collect();
            found.push(words);
        }
    }
    found
}

#[test]
fn documented_commands_and_flags_exist() {
    let cli = xtask::Cli::command();
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for words in invocations(&text) {
            let Some(sub) = words.first() else { continue };
            if sub.starts_with('<') || sub.starts_with('-') {
                continue; // `cargo xtask <command> --help`, `cargo xtask --help`
            }
            let Some(command) = cli.find_subcommand(sub) else {
                problems.push(format!("{name}: `cargo xtask {sub}` is not a command"));
                continue;
            };
            checked += 1;
            let longs: Vec<&str> = command
                .get_arguments()
                .chain(cli.get_arguments())
                .filter_map(|a| a.get_long())
                .chain(["help"])
                .collect();
            for flag in words.iter().filter_map(|w| w.strip_prefix("--")) {
                let flag = flag.split('=').next().unwrap();
                if !longs.contains(&flag) {
                    problems.push(format!(
                        "{name}: `cargo xtask {sub}` has no --{flag} (it has --{})",
                        longs.join(", --")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked > 20,
        "only {checked} invocations found: is the parser broken?"
    );
}

#[test]
fn the_parser_finds_commands_and_flags() {
    let found = invocations(
        "run `cargo xtask deploy --suffix qa --yes`, then cargo xtask rto --suffix qa | tee x",
    );
    assert_eq!(found[0], ["deploy", "--suffix", "qa", "--yes"]);
    assert_eq!(found[1], ["rto", "--suffix", "qa"]);
}
