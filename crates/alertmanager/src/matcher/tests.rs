use super::*;

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn one(s: &str) -> (String, MatchOp, String) {
    let m = parse_matcher(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    (m.name, m.op, m.value)
}

#[test]
fn operators_and_quoting() {
    use MatchOp::*;
    assert_eq!(one("a=b"), ("a".into(), Equal, "b".into()));
    assert_eq!(one("a!=b"), ("a".into(), NotEqual, "b".into()));
    assert_eq!(one("a=~b.*"), ("a".into(), Regexp, "b.*".into()));
    assert_eq!(one("a!~b"), ("a".into(), NotRegexp, "b".into()));
    assert_eq!(one(r#"  a  =  "b c"  "#), ("a".into(), Equal, "b c".into()));
    assert_eq!(one(r#"a="b\"c""#), ("a".into(), Equal, "b\"c".into()));
    assert_eq!(one(r#"a="b\\c""#), ("a".into(), Equal, "b\\c".into()));
    assert_eq!(one(r#"a="b\nc""#), ("a".into(), Equal, "b\nc".into()));
    // A needless escape keeps its backslash; a trailing one is literal.
    assert_eq!(one(r#"a=b\d"#), ("a".into(), Equal, "b\\d".into()));
    assert_eq!(one(r"a=b\"), ("a".into(), Equal, "b\\".into()));
    assert_eq!(one("a="), ("a".into(), Equal, "".into()));
    assert_eq!(one(r#"a="""#), ("a".into(), Equal, "".into()));
    // `=~` wins over `=` followed by a `~` value.
    // The value is whatever follows the operator, even another `=`.
    assert_eq!(one("a==b"), ("a".into(), Equal, "=b".into()));
    assert_eq!(one("a=~~"), ("a".into(), Regexp, "~".into()));
    assert_eq!(
        one("__name__:x=1"),
        ("__name__:x".into(), Equal, "1".into())
    );
}

#[test]
fn bad_matchers_are_refused() {
    for s in [
        "",
        "a",
        "1a=b",
        "a-b=c",
        r#"a="b"#,
        r#"a=b"c"#,
        r#"a="b"c""#,
        r#"a=""#,
        "a=~(",
    ] {
        assert!(parse_matcher(s).is_err(), "{s:?} should fail");
    }
    assert_eq!(
        parse_matcher("a").unwrap_err().to_string(),
        "bad matcher format: a"
    );
}

#[test]
fn lists_split_on_commas_outside_quotes() {
    let ms = parse_matchers(r#"{a="b", c=~"x,y.*" , d!="\"e,f"}"#).unwrap();
    let got: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
    assert_eq!(got, [r#"a="b""#, r#"c=~"x,y.*""#, r#"d!="\"e,f""#]);
    assert!(parse_matchers("{}").unwrap().is_empty());
    assert!(parse_matchers("").unwrap().is_empty());
    assert_eq!(parse_matchers("a=b,c=d").unwrap().len(), 2);
    // A blank last token is dropped, a blank one in the middle is not.
    assert_eq!(parse_matchers("a=b,").unwrap().len(), 1);
    assert!(parse_matchers("a=b,,c=d").is_err());
}

#[test]
fn regexes_are_anchored_and_ascii() {
    let m = Matcher::new("a", MatchOp::Regexp, "b|c").unwrap();
    assert!(m.matches("b") && m.matches("c"));
    assert!(!m.matches("bc") && !m.matches("xb"));
    let d = Matcher::new("a", MatchOp::Regexp, r"\d+").unwrap();
    assert!(d.matches("12"));
    // Go's \d is ASCII; U+0663 is an Arabic-Indic digit (amtool agrees).
    assert!(!d.matches("\u{663}"));
    let w = Matcher::new("a", MatchOp::Regexp, r"[\w-]+").unwrap();
    assert!(w.matches("a-b_9") && !w.matches("é"));
    // `.` does not match a newline in Alertmanager's regexes.
    let dot = Matcher::new("a", MatchOp::Regexp, ".*").unwrap();
    assert!(!dot.matches("a\nb"));
    let nre = Matcher::new("a", MatchOp::NotRegexp, "x.*").unwrap();
    assert!(nre.matches("") && !nre.matches("xy"));
}

#[test]
fn missing_labels_are_empty() {
    let ms = Matchers(parse_matchers(r#"a="", b!="x""#).unwrap());
    assert!(ms.matches(&ls(&[])));
    assert!(ms.matches(&ls(&[("c", "1")])));
    assert!(!ms.matches(&ls(&[("a", "1")])));
    assert!(!ms.matches(&ls(&[("b", "x")])));
}

#[test]
fn display_escapes_as_alertmanager() {
    // amtool config routes show prints only \\, newline and " escaped; a tab,
    // U+0001 or U+00A0 print as they are (see 13_unprintable_values.yml).
    let m = Matcher::new("a", MatchOp::NotEqual, "x\"y\\z\n\t\u{1}é\u{a0}").unwrap();
    assert_eq!(m.to_string(), "a!=\"x\\\"y\\\\z\\n\t\u{1}é\u{a0}\"");
}

#[test]
fn go_quote_as_strconv_quote() {
    assert_eq!(
        go_quote("x\"y\\z\n\t\u{1}\u{7f}é\u{a0}\u{200b}"),
        r#""x\"y\\z\n\t\x01\x7fé\u00a0\u200b""#
    );
}

#[test]
fn sorted_lists_print_without_spaces() {
    let mut ms = Matchers(parse_matchers(r#"b=~"1", a="2", b="1""#).unwrap());
    ms.sort();
    assert_eq!(ms.to_string(), r#"{a="2",b="1",b=~"1"}"#);
}

#[test]
fn api_shape_round_trips() {
    let a: ApiMatcher =
        serde_json::from_str(r#"{"name":"a","value":"b.*","isRegex":true}"#).unwrap();
    assert!(a.is_equal);
    let m = Matcher::try_from(&a).unwrap();
    assert_eq!(m.op, MatchOp::Regexp);
    let b: ApiMatcher =
        serde_json::from_str(r#"{"name":"a","value":"b","isRegex":false,"isEqual":false}"#)
            .unwrap();
    let m = Matcher::try_from(b).unwrap();
    assert_eq!(m.op, MatchOp::NotEqual);
    assert_eq!(
        serde_json::to_string(&ApiMatcher::from(&m)).unwrap(),
        r#"{"name":"a","value":"b","isRegex":false,"isEqual":false}"#
    );
    let bad = ApiMatcher {
        name: "a".into(),
        value: "(".into(),
        is_regex: true,
        is_equal: true,
    };
    assert!(Matcher::try_from(&bad).is_err());
}

#[test]
fn braces_and_commas_as_amtool_reads_them() {
    // What `amtool config routes show` prints for these `matchers:` entries.
    let show = |s: &str| {
        let mut ms = Matchers(parse_matchers(s).unwrap());
        ms.sort();
        ms.to_string()
    };
    assert_eq!(show("{a=b"), r#"{a="b"}"#);
    assert_eq!(show("a=b}"), r#"{a="b"}"#);
    assert_eq!(show(r#"a="x\,y""#), r#"{a="x\\,y"}"#);
    assert_eq!(show(r#"a=~"x\\d""#), r#"{a=~"x\\d"}"#);
    assert_eq!(
        parse_matchers(r#"a="b",c"#).unwrap_err().to_string(),
        "bad matcher format: c"
    );
}

#[test]
fn go_literal_braces_and_quoting() {
    // amtool check-config accepts all of these; Go reads the braces
    // literally and \Q...\E as quoted text.
    let m = |re: &str, v: &str| Matcher::new("a", MatchOp::Regexp, re).unwrap().matches(v);
    assert!(m("a{", "a{"));
    assert!(m("a{,3}", "a{,3}") && !m("a{,3}", "aaa"));
    assert!(m("x{x}", "x{x}"));
    assert!(m(r"\Qa.b\E+", "a.bb") && !m(r"\Qa.b\E", "axb"));
    assert!(m(r"\Qa.b", "a.b"));
    assert!(m("a{2}", "aa") && m("a{1,}", "aaa") && m("a{1,2}b", "ab"));
    assert!(m("[{]", "{"));
}
