//! Case conversion for generated names (no dependency needed for two rules).

/// `StaffMember` → `staff_member`, `HTTPUser` → `http_user`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.trim_start_matches("r#").chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// English plural of a snake-case name: `user` → `users`, `address` →
/// `addresses`, `company` → `companies`.
pub(crate) fn plural(snake: &str) -> String {
    let vowel_before_y = snake
        .strip_suffix('y')
        .and_then(|rest| rest.chars().last())
        .is_some_and(|c| "aeiou".contains(c));
    if let Some(stem) = snake.strip_suffix('y').filter(|_| !vowel_before_y) {
        format!("{stem}ies")
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| snake.ends_with(end))
    {
        format!("{snake}es")
    } else {
        format!("{snake}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("StaffMember"), "staff_member");
        assert_eq!(snake_case("HTTPUser"), "http_user");
        assert_eq!(snake_case("User2Fa"), "user2_fa");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("user"), "users");
        assert_eq!(plural("staff_member"), "staff_members");
        assert_eq!(plural("boss"), "bosses");
        assert_eq!(plural("company"), "companies");
        assert_eq!(plural("day"), "days");
    }
}
