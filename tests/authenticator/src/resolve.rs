//! How Go's yaml.v2 types a plain scalar (YAML 1.1 rules, as sigs.k8s.io/yaml uses them when
//! the authenticator turns `mapRoles`/`mapUsers` into JSON): `yes`/`on`/`y` are booleans,
//! `~` and the empty text are null, `0x1F`, `0o17`, `017`, `0b101` and `1_000` are integers,
//! `.5` and `1e3` are floats, `.inf`/`.nan` are floats JSON cannot hold. Timestamps stay text
//! (yaml.v2 keeps them as strings when decoding into an interface).

/// What a scalar is once typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer or a finite float: a JSON number.
    Number,
    /// `.inf`, `-.inf` or `.nan`: a float JSON cannot encode.
    NonFinite,
    /// Text.
    Str,
}

/// Types a plain scalar's text the way yaml.v2's resolver does.
pub fn plain(text: &str) -> Kind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Kind::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Kind::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Kind::NonFinite,
        _ => {}
    }
    match text.as_bytes()[0] {
        b'0'..=b'9' | b'+' | b'-' => {
            let digits = text.replace('_', "");
            if go_int(&digits) || yaml_float(&digits) || binary(&digits) {
                Kind::Number
            } else {
                Kind::Str
            }
        }
        b'.' if go_float(text) => Kind::Number,
        _ => Kind::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint` syntax (range aside: an integer too large
/// for them still matches the float pattern): optional sign, then `0x`/`0o`/`0b` prefixed
/// digits, a leading-zero octal, or decimal.
fn go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// yaml.v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// yaml.v2's explicit `0b…` / `-0b…` binary integers.
fn binary(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    body.strip_prefix("0b")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b == b'0' || b == b'1'))
}

/// Go's `strconv.ParseFloat` for a text starting with `.` (what yaml.v2 tries for those):
/// `.5`, `.5e3`.
fn go_float(s: &str) -> bool {
    yaml_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        for t in ["yes", "On", "Y", "TRUE"] {
            assert_eq!(plain(t), Kind::Bool(true), "{t}");
        }
        for t in ["no", "OFF", "n", "False"] {
            assert_eq!(plain(t), Kind::Bool(false), "{t}");
        }
        for t in ["", "~", "null", "NULL"] {
            assert_eq!(plain(t), Kind::Null, "{t}");
        }
    }

    #[test]
    fn numbers_in_every_go_syntax() {
        for t in [
            "123456789012",
            "0x1F",
            "017",
            "0o17",
            "0b101",
            "-0b1",
            "1_000",
            "+5",
            "1.5",
            ".5",
            "1e3",
            "089",
            "99999999999999999999999",
        ] {
            assert_eq!(plain(t), Kind::Number, "{t}");
        }
        assert_eq!(plain(".inf"), Kind::NonFinite);
        assert_eq!(plain("-.INF"), Kind::NonFinite);
    }

    #[test]
    fn everything_else_is_text() {
        for t in [
            "admin",
            "system:masters",
            "arn:aws:iam::1:role/x",
            "2001-12-14",
            "1.2.3",
            "-",
            "+",
            "0x",
            "12:30",
            "yes please",
        ] {
            assert_eq!(plain(t), Kind::Str, "{t}");
        }
    }
}
