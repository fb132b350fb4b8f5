//! A small Dockerfile reader for the packaging test: enough of the syntax
//! (comments, line continuations, exec-form JSON arrays, `FROM ... AS`
//! stages) to check what the image is made of without a Docker engine.

/// One instruction: its keyword in upper case, its arguments as written
/// (continuations joined), and the line it starts on.
#[derive(Debug, Clone)]
pub struct Instr {
    pub line: usize,
    pub op: String,
    pub args: String,
}

/// A build stage: `FROM image [AS name]` and the instructions after it.
#[derive(Debug, Clone)]
pub struct Stage {
    pub image: String,
    pub name: Option<String>,
    pub instrs: Vec<Instr>,
}

/// The instructions of a Dockerfile. Comment lines are dropped (also inside
/// a continued instruction, as BuildKit does); a line ending in `\`
/// continues on the next.
pub fn parse(text: &str) -> Vec<Instr> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && cur.is_none()) {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(b) => (b.trim_end(), true),
            None => (trimmed, false),
        };
        let (start, mut acc) = cur.take().unwrap_or((i + 1, String::new()));
        if !acc.is_empty() && !body.is_empty() {
            acc.push(' ');
        }
        acc.push_str(body);
        if continues {
            cur = Some((start, acc));
            continue;
        }
        if acc.is_empty() {
            continue;
        }
        let (op, args) = acc.split_once(char::is_whitespace).unwrap_or((&acc, ""));
        out.push(Instr {
            line: start,
            op: op.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        });
    }
    out
}

/// The stages, in order. Instructions before the first `FROM` (`ARG`) are
/// not part of any stage and are left out.
pub fn stages(instrs: &[Instr]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::new();
    for ins in instrs {
        if ins.op == "FROM" {
            let words: Vec<&str> = ins
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let name = match words.as_slice() {
                [_, as_, n] if as_.eq_ignore_ascii_case("as") => Some((*n).to_owned()),
                _ => None,
            };
            out.push(Stage {
                image: words.first().copied().unwrap_or("").to_owned(),
                name,
                instrs: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.instrs.push(ins.clone());
        }
    }
    out
}

/// The words of an exec-form argument list (`["a", "b"]`), or None for the
/// shell form.
pub fn exec_form(args: &str) -> Option<Vec<String>> {
    serde_json::from_str::<Vec<String>>(args).ok()
}

impl Stage {
    /// The arguments of every instruction `op` in this stage.
    pub fn all(&self, op: &str) -> Vec<&Instr> {
        self.instrs.iter().filter(|i| i.op == op).collect()
    }

    /// The last instruction `op` in this stage (the one in force).
    pub fn last(&self, op: &str) -> Option<&Instr> {
        self.instrs.iter().rev().find(|i| i.op == op)
    }
}

/// What the image must be, as a list of problems (empty when it is all
/// right), so that a test can show each check refusing a bad Dockerfile.
/// `bin` is the binary's name (`[[bin]]` of crates/server/Cargo.toml).
pub fn problems(text: &str, bin: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let st = stages(&parse(text));
    if st.len() < 2 {
        bad.push(format!(
            "a multi-stage build needs a builder and a runtime stage, found {} stage(s)",
            st.len()
        ));
        return bad;
    }
    let runtime = st.last().expect("two stages");
    let builders = &st[..st.len() - 1];
    let build_cmd = builders.iter().flat_map(|s| s.all("RUN")).find(|r| {
        let w: Vec<&str> = r.args.split_whitespace().collect();
        w.windows(2).any(|p| p == ["cargo", "build"])
            && w.contains(&"--release")
            && w.contains(&"--locked")
            && w.windows(2).any(|p| p == ["-p", bin])
    });
    if build_cmd.is_none() {
        bad.push(format!(
            "no builder stage runs `cargo build --release -p {bin} --locked`"
        ));
    }
    if !(runtime.image.starts_with("debian:") && runtime.image.ends_with("-slim")) {
        bad.push(format!(
            "the runtime stage should be a slim Debian image, is {:?}",
            runtime.image
        ));
    }
    // Only ca-certificates is installed in the runtime image.
    for r in runtime.all("RUN") {
        let w: Vec<&str> = r.args.split_whitespace().collect();
        if let Some(at) = w.windows(2).position(|p| p == ["apt-get", "install"]) {
            let pkgs: Vec<&str> = w[at + 2..]
                .iter()
                .take_while(|x| **x != "&&" && **x != ";")
                .filter(|x| !x.starts_with('-'))
                .copied()
                .collect();
            if pkgs != ["ca-certificates"] {
                bad.push(format!(
                    "line {}: the runtime installs {pkgs:?}, only ca-certificates is wanted",
                    r.line
                ));
            }
        }
    }
    match runtime.last("USER") {
        None => bad.push("the runtime stage runs as root (no USER)".into()),
        Some(u) => {
            let user = u.args.split(':').next().unwrap_or("").trim();
            if user.is_empty() || user == "root" || user.parse::<u32>() == Ok(0) {
                bad.push(format!("line {}: USER {} is root", u.line, u.args));
            }
        }
    }
    let volumes: Vec<String> = runtime
        .all("VOLUME")
        .iter()
        .flat_map(|v| {
            exec_form(&v.args)
                .unwrap_or_else(|| v.args.split_whitespace().map(str::to_owned).collect())
        })
        .collect();
    if !volumes.iter().any(|v| v == "/var/lib/sightline") {
        bad.push(format!(
            "VOLUME /var/lib/sightline is missing (volumes: {volumes:?})"
        ));
    }
    let ports: Vec<&str> = runtime
        .all("EXPOSE")
        .iter()
        .flat_map(|e| e.args.split_whitespace())
        .map(|p| p.split('/').next().unwrap_or(p))
        .collect();
    for want in ["9090", "4317"] {
        if !ports.contains(&want) {
            bad.push(format!("EXPOSE {want} is missing (exposed: {ports:?})"));
        }
    }
    let entry = runtime.last("ENTRYPOINT").and_then(|e| exec_form(&e.args));
    match entry.as_deref() {
        Some([path, ..]) => {
            if path.rsplit('/').next() != Some(bin) {
                bad.push(format!("ENTRYPOINT runs {path}, not the `{bin}` binary"));
            }
            // The entrypoint must be a file the runtime stage copies in
            // from a builder stage.
            let copied = runtime.all("COPY").iter().any(|c| {
                let w: Vec<&str> = c.args.split_whitespace().collect();
                let from = w.iter().find_map(|x| x.strip_prefix("--from="));
                let from_builder = from.is_some_and(|f| {
                    builders
                        .iter()
                        .enumerate()
                        .any(|(i, s)| s.name.as_deref() == Some(f) || i.to_string() == f)
                });
                from_builder && w.last() == Some(&path.as_str())
            });
            if !copied {
                bad.push(format!(
                    "no COPY --from=<builder> puts the binary at {path}"
                ));
            }
        }
        _ => bad.push("ENTRYPOINT is missing or not in exec form".into()),
    }
    match runtime.last("CMD").and_then(|c| exec_form(&c.args)) {
        Some(cmd) if cmd.first().map(String::as_str) == Some("serve") => {
            let data_dir = flag_value(&cmd, "--data-dir");
            if data_dir.as_deref() != Some("/var/lib/sightline") {
                bad.push(format!(
                    "CMD serve keeps its data in {data_dir:?}, not on the volume /var/lib/sightline"
                ));
            }
        }
        other => bad.push(format!("CMD should be [\"serve\", ...], is {other:?}")),
    }
    bad
}

/// The value of `--name` in `args` (`--name=v` or `--name v`).
pub fn flag_value(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            Some(v.to_owned())
        } else if a == name {
            args.get(i + 1).cloned()
        } else {
            None
        }
    })
}

/// The flag names (`--x`) among `args`.
pub fn flag_names(args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|a| a.starts_with("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_owned())
        .collect()
}
