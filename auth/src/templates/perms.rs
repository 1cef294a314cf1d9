//! The `perms` value of templates (Django's `PermWrapper`):
//! `{% if perms.accounts %}` (any permission in the app),
//! `{% if perms.accounts.view_report %}` and
//! `{% if "accounts.view_report" in perms %}`.

use std::sync::{Arc, LazyLock};

use minijinja::{
    Value,
    value::{Enumerator, Object, ObjectRepr},
};

use crate::permissions::UserPermissions;

/// The `perms` value for one request's user.
pub(crate) fn perms_value(perms: Arc<UserPermissions>) -> Value {
    static ANONYMOUS: LazyLock<Value> = LazyLock::new(|| {
        Value::from_object(Perms {
            perms: UserPermissions::anonymous(),
        })
    });
    if Arc::ptr_eq(&perms, &UserPermissions::anonymous()) {
        return ANONYMOUS.clone();
    }
    Value::from_object(Perms { perms })
}

#[derive(Debug)]
struct Perms {
    perms: Arc<UserPermissions>,
}

impl Object for Perms {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        // Iterable: `in` compares with the names the user has.
        ObjectRepr::Iterable
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        Some(match crate::permissions::name::split_name(key) {
            Some(_) => Value::from(self.perms.has_perm(key)),
            None => Value::from_object(AppPerms {
                perms: self.perms.clone(),
                app_label: key.to_owned(),
            }),
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        // The permission names, then the app labels with any of them.
        let names = self.perms.get_all_permissions();
        let mut apps: Vec<String> = names
            .iter()
            .filter_map(|name| name.split_once('.').map(|(app, _)| app.to_owned()))
            .collect();
        apps.dedup();
        let values = names.into_iter().chain(apps).map(Value::from).collect();
        Enumerator::Values(values)
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
}

/// `perms.<app_label>`: true when the user has any permission in the app.
#[derive(Debug)]
struct AppPerms {
    perms: Arc<UserPermissions>,
    app_label: String,
}

impl Object for AppPerms {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Iterable
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let codename = key.as_str()?;
        Some(Value::from(
            self.perms.has_app_perm(&self.app_label, codename),
        ))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let prefix = format!("{}.", self.app_label);
        let codenames = self
            .perms
            .get_all_permissions()
            .into_iter()
            .filter_map(|name| name.strip_prefix(&prefix).map(Value::from))
            .collect();
        Enumerator::Values(codenames)
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.perms.has_module_perms(&self.app_label)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.app_label)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn render(source: &str, perms: UserPermissions) -> String {
        let env = minijinja::Environment::new();
        let perms = perms_value(Arc::new(perms));
        env.render_str(source, minijinja::context! { perms })
            .unwrap()
    }

    fn granted(names: &[&str]) -> UserPermissions {
        let user: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
        UserPermissions::new(true, false, user, BTreeSet::new(), BTreeSet::new())
    }

    #[test]
    fn app_labels_are_true_when_any_permission_in_the_app_is_held() {
        let source = "{% if perms.accounts %}A{% endif %}{% if perms.blog %}B{% endif %}";
        assert_eq!(render(source, granted(&["accounts.view_report"])), "A");
        assert_eq!(render(source, UserPermissions::none()), "");
    }

    #[test]
    fn codenames_and_membership_match_has_perm() {
        let source = "{{ perms.accounts.view_report }} {{ perms.accounts.publish_report }} \
                      {{ 'accounts.view_report' in perms }} {{ 'accounts.publish_report' in perms }} \
                      {{ 'accounts' in perms }} {{ 'blog' in perms }} {{ 'view_report' in perms.accounts }}";
        assert_eq!(
            render(source, granted(&["accounts.view_report"])),
            "True False True False True False True"
        );
    }

    #[test]
    fn an_inactive_user_has_nothing_even_when_rows_say_otherwise() {
        let user: BTreeSet<String> = ["accounts.view_report".to_owned()].into();
        let inactive = UserPermissions::new(false, true, user, BTreeSet::new(), BTreeSet::new());
        let source = "{{ perms.accounts.view_report }}{% if perms.accounts %}A{% endif %}";
        assert_eq!(render(source, inactive), "False");
    }
}
