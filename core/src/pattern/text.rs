//! String operators that need more than `==`: `wildcard` and the `equals-ignore-case` family.

/// A compiled `wildcard` value: literal pieces with a `*` between each two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    pieces: Vec<Box<str>>,
}

impl Wildcard {
    /// Parses a wildcard value: `*` matches any run of characters (also none), `\*` is a literal
    /// asterisk, `\\` a literal backslash. As in EventBridge, any other escape and two `*` in a
    /// row are rejected.
    pub(crate) fn parse(text: &str) -> Result<Wildcard, String> {
        let mut pieces = Vec::new();
        let mut current = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((pos, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped @ ('*' | '\\'))) => current.push(escaped),
                    _ => {
                        return Err(format!(
                            "wildcard {text:?} has an invalid escape at character {}: only \\* (a literal '*') and \\\\ (a literal backslash) are allowed",
                            text[..pos].chars().count() + 1
                        ));
                    }
                },
                '*' => {
                    if matches!(chars.peek(), Some((_, '*'))) {
                        return Err(format!(
                            "wildcard {text:?} has consecutive '*' at character {}: one '*' already matches any run of characters",
                            text[..pos].chars().count() + 1
                        ));
                    }
                    pieces.push(std::mem::take(&mut current).into_boxed_str());
                }
                other => current.push(other),
            }
        }
        pieces.push(current.into_boxed_str());
        Ok(Wildcard { pieces })
    }

    /// True when `value` matches the whole wildcard.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let pieces = &self.pieces;
        let (first, last) = match pieces.as_slice() {
            [only] => return value == &**only,
            [first, .., last] => (first, last),
            [] => return false,
        };
        if value.len() < first.len() + last.len()
            || !value.starts_with(&**first)
            || !value.ends_with(&**last)
        {
            return false;
        }
        // Leftmost-first placement of the middle pieces is optimal for a pattern whose only
        // metacharacter is `*`.
        let mut rest = &value[first.len()..value.len() - last.len()];
        for piece in &pieces[1..pieces.len() - 1] {
            match rest.find(&**piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

/// A string compared ignoring case the way EventBridge does: each character of the pattern
/// matches its lower-case or upper-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaseFold {
    text: Box<str>,
    /// Per pattern character, its lower- and upper-case forms; empty when `text` is ASCII.
    forms: Vec<[Box<str>; 2]>,
}

impl CaseFold {
    /// Prepares `text` for case-insensitive comparisons.
    pub(crate) fn new(text: &str) -> CaseFold {
        let forms = if text.is_ascii() {
            Vec::new()
        } else {
            text.chars()
                .map(|c| {
                    [
                        c.to_lowercase().collect::<String>().into_boxed_str(),
                        c.to_uppercase().collect::<String>().into_boxed_str(),
                    ]
                })
                .collect()
        };
        CaseFold {
            text: text.into(),
            forms,
        }
    }

    /// `value` equals the text, ignoring case.
    pub(crate) fn equals(&self, value: &str) -> bool {
        if self.forms.is_empty() {
            return value.len() == self.text.len() && value.eq_ignore_ascii_case(&self.text);
        }
        self.reach(value, false).contains(&value.len())
    }

    /// `value` starts with the text, ignoring case.
    pub(crate) fn is_prefix_of(&self, value: &str) -> bool {
        if self.forms.is_empty() {
            let n = self.text.len();
            return value.len() >= n
                && value.as_bytes()[..n].eq_ignore_ascii_case(self.text.as_bytes());
        }
        !self.reach(value, false).is_empty()
    }

    /// `value` ends with the text, ignoring case.
    pub(crate) fn is_suffix_of(&self, value: &str) -> bool {
        if self.forms.is_empty() {
            let n = self.text.len();
            return value.len() >= n
                && value.as_bytes()[value.len() - n..].eq_ignore_ascii_case(self.text.as_bytes());
        }
        !self.reach(value, true).is_empty()
    }

    /// The byte offsets of `value` that the pattern's characters can reach, walking forwards from
    /// the start (or backwards from the end). Tracking every reachable offset keeps this linear
    /// when a character's two forms differ in length (`ß` / `SS`).
    fn reach(&self, value: &str, backwards: bool) -> Vec<usize> {
        let mut reachable = vec![if backwards { value.len() } else { 0 }];
        let mut next = Vec::new();
        let mut step = |forms: &[Box<str>; 2], reachable: &mut Vec<usize>| {
            next.clear();
            for form in forms {
                for &offset in reachable.iter() {
                    let found = if backwards {
                        offset
                            .checked_sub(form.len())
                            .filter(|&start| value.get(start..offset) == Some(&**form))
                    } else {
                        let end = offset + form.len();
                        (value.get(offset..end) == Some(&**form)).then_some(end)
                    };
                    if let Some(at) = found
                        && !next.contains(&at)
                    {
                        next.push(at);
                    }
                }
            }
            std::mem::swap(reachable, &mut next);
            !reachable.is_empty()
        };
        if backwards {
            for forms in self.forms.iter().rev() {
                if !step(forms, &mut reachable) {
                    break;
                }
            }
        } else {
            for forms in &self.forms {
                if !step(forms, &mut reachable) {
                    break;
                }
            }
        }
        reachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard(p: &str) -> Wildcard {
        Wildcard::parse(p).unwrap()
    }

    #[test]
    fn wildcard_matching() {
        assert!(wildcard("*").matches(""));
        assert!(wildcard("*").matches("anything"));
        assert!(wildcard("a*").matches("a"));
        assert!(wildcard("*.png").matches("dir/file.png"));
        assert!(!wildcard("*.png").matches("file.jpg"));
        assert!(wildcard("dir/*.png").matches("dir/a/b.png"));
        assert!(wildcard("a*b*c").matches("abc"));
        assert!(wildcard("a*b*c").matches("aXXbYYbZc"));
        assert!(!wildcard("a*b*c").matches("acb"));
        assert!(!wildcard("ab*ba").matches("aba"));
        assert!(wildcard("*/lib/*").matches("/usr/lib/x"));
        assert!(wildcard(r"a\*b").matches("a*b"));
        assert!(!wildcard(r"a\*b").matches("axb"));
        assert!(wildcard(r"a\\b").matches(r"a\b"));
        assert!(wildcard(r"\**").matches("*x"));
        assert!(wildcard("naïve*").matches("naïve café"));
    }

    #[test]
    fn wildcard_rejects() {
        assert!(Wildcard::parse("a**b").is_err());
        assert!(Wildcard::parse(r"a\b").is_err());
        assert!(Wildcard::parse("a\\").is_err());
    }

    #[test]
    fn case_folding() {
        let ascii = CaseFold::new("EventB");
        assert!(ascii.is_prefix_of("eventbridge"));
        assert!(ascii.is_prefix_of("EVENTB"));
        assert!(!ascii.is_prefix_of("event"));
        assert!(CaseFold::new(".png").is_suffix_of("FILE.PNG"));
        assert!(CaseFold::new("alice").equals("ALICE"));
        assert!(!CaseFold::new("alice").equals("alicex"));
        let unicode = CaseFold::new("straße");
        assert!(unicode.equals("STRASSE"));
        assert!(unicode.equals("Straße"));
        assert!(!unicode.equals("strasse!"));
        assert!(CaseFold::new("ÉT").is_prefix_of("été"));
        assert!(CaseFold::new("ß").is_suffix_of("GROSS"));
        assert!(!CaseFold::new("ß").is_suffix_of("GROS"));
    }
}
