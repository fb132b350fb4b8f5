use super::*;

fn m(re: &str, s: &str) -> bool {
    compile(re, Anchor::Whole).unwrap().is_match(s)
}

#[test]
fn perl_classes_are_ascii_as_in_go() {
    assert!(m(r"\d+", "123"));
    // Arabic-Indic digits are \d in Rust's Unicode mode, not in Go.
    assert!(!m(r"\d+", "\u{661}\u{662}"));
    assert!(m(r"\D+", "\u{661}\u{662}"));
    assert!(!m(r"\w+", "é"));
    assert!(m(r"[\w.]+", "a.b_1"));
    assert!(!m(r"[\w.]+", "é"));
    assert!(m(r"[^\d]+", "abc"));
    assert!(m(r"a\sb", "a b"));
    assert!(!m(r"a\sb", "a\u{a0}b"));
    assert!(m(r"(.*)\b(x)", "a x"));
    assert!(m(r"[]a]+", "]a"));
    assert!(m(r"[[:alpha:]]+", "abc"));
    assert!(m(r"[\[]", "["));
    assert!(m(r"\.", "."));
    assert!(m(r"é.", "éé"));
}

#[test]
fn go_literal_braces_and_quoting() {
    assert!(m("a{", "a{"));
    assert!(m("a{,3}", "a{,3}") && !m("a{,3}", "aaa"));
    assert!(m("x{x}", "x{x}"));
    assert!(m(r"\Qa.b\E+", "a.bb") && !m(r"\Qa.b\E", "axb"));
    assert!(m(r"\Qa.b", "a.b"));
    assert!(m("a{2}", "aa") && m("a{1,}", "aaa") && m("a{1,2}b", "ab"));
    assert!(m("[{]", "{"));
}

#[test]
fn anchors_are_each_peers() {
    let none = compile("b+", Anchor::None).unwrap();
    assert!(none.is_match("abbc"));
    assert!(m("b|c", "c") && !m("b|c", "bc"));
    // Only Prometheus's label matchers let `.` cross a newline.
    assert!(!m(".*", "a\nb"));
    let dot_all = compile(".*", Anchor::WholeDotAll).unwrap();
    assert!(dot_all.is_match("a\nb"));
    assert!(compile("(", Anchor::Whole).is_err());
}
