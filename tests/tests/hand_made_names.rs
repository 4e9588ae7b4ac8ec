//! Every physical name, SSM path and ARN comes from the core: names and paths from
//! `cfn::naming` (the table the suffix limit is derived from), ARNs from `cfn::arn`. This test
//! reads the component and region crates' code (not their tests) and fails on an ARN written
//! by hand (`"arn:…"`) or a `format!` that uses the environment's suffix, which is how a name
//! or path gets built around the naming table. A line that really is no name (a description)
//! says so with `// not a name: <why>`.

use std::path::{Path, PathBuf};

/// Where the core makes names and ARNs: exempt.
const CORE: [&str; 2] = ["components/cfn/src/naming.rs", "components/cfn/src/arn.rs"];

/// What a crate's code does by hand: (line, what).
fn hand_made(source: &str) -> Vec<(usize, String)> {
    // The tests module ends the code that ships.
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or(source);
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if line.contains("\"arn:") || line.contains("\"arn:${") {
            found.push((i + 1, format!("an ARN written by hand: {}", trimmed)));
        }
        if let Some(at) = line.find("format!(") {
            // The whole call, which may span lines.
            let mut call = line[at..].to_string();
            let mut depth = 0i32;
            let mut end = None;
            'outer: for (j, l) in lines[i..].iter().enumerate() {
                let text = if j == 0 { &line[at..] } else { l };
                if j > 0 {
                    call.push_str(l);
                }
                for c in text.chars() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + j);
                                break 'outer;
                            }
                        }
                        _ => {}
                    }
                }
            }
            let last = lines[end.unwrap_or(i)];
            let exempt = [line, last, call.as_str()]
                .iter()
                .any(|t| t.contains("// not a name:"));
            let uses_suffix = call
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == "suffix");
            if uses_suffix && !exempt {
                found.push((
                    i + 1,
                    format!(
                        "a name or path built from the suffix by hand: {}",
                        call.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                ));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn components_and_regions_make_names_and_arns_through_the_core() {
    let root = xtask::workspace_root();
    let mut files = Vec::new();
    for top in ["components", "regions"] {
        rust_files(&root.join(top), &mut files);
    }
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        // The core's own naming, build scripts and integration tests are not what ships.
        if CORE.contains(&rel_str.as_str())
            || rel_str.ends_with("/build.rs")
            || rel_str.contains("/tests/")
        {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap();
        for (line, what) in hand_made(&source) {
            problems.push(format!("{rel_str}:{line}: {what}"));
        }
    }
    assert!(
        problems.is_empty(),
        "use cfn::arn::Arn for ARNs and cfn::naming (Namer::name, ParameterPaths, zone_name) for names and paths:\n{}",
        problems.join("\n")
    );
    assert!(files.len() > 20, "only {} files read", files.len());
}

#[test]
fn a_hand_written_arn_or_name_is_found_and_the_builders_are_not() {
    let bad = r#"
fn bus(region: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:events:{region}:${{AWS::AccountId}}:event-bus/default"))
}
fn table(env: &Environment) -> String {
    format!(
        "sessions-{}",
        env.suffix
    )
}
"#;
    let found = hand_made(bad);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].1.contains("ARN"), "{found:?}");
    assert_eq!(found[1].0, 6, "{found:?}");
    let good = r#"
fn bus(region: &str) -> Expr {
    Arn::new("events", "event-bus/default").in_region(region).expr()
}
fn table(namer: &Namer) -> String {
    namer.name(&naming::SESSIONS_TABLE, None)
}
fn comment(env: &Environment) -> String {
    format!("Trading DR, environment {}", env.suffix) // not a name: a zone's comment
}
#[cfg(test)]
mod tests {
    const X: &str = "arn:aws:kms:us-east-1:1:key/a";
}
"#;
    assert_eq!(hand_made(good), Vec::new());
}
