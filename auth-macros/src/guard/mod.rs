//! The guard attributes on handlers: `#[login_required]`,
//! `#[permission_required]`, `#[user_passes_test]` and
//! `#[reauth_required]`. Each adds one guard
//! extractor in front of the handler's arguments, configured by a hidden
//! type generated next to the handler.

mod args;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn};

use crate::ctxt::Ctxt;
use args::{Args, LoginUrl, Perm};

/// Which guard.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    LoginRequired,
    PermissionRequired,
    UserPassesTest,
    ReauthRequired,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::LoginRequired => "login_required",
            Kind::PermissionRequired => "permission_required",
            Kind::UserPassesTest => "user_passes_test",
            Kind::ReauthRequired => "reauth_required",
        }
    }

    /// The message for an unknown key.
    fn unknown_key(self, key: &str) -> String {
        let expected = match self {
            Kind::PermissionRequired => {
                "expected `login_url`, `redirect_field_name` or `raise_exception`"
            }
            Kind::ReauthRequired => "expected `max_age` (seconds, such as `max_age = 300`)",
            _ => "expected `login_url` or `redirect_field_name`",
        };
        format!("unknown `{}` argument `{key}`; {expected}", self.name())
    }

    /// The message for a bare value where a `key = value` belongs.
    fn expected_here(self, index: usize) -> String {
        match (self, index) {
            (Kind::LoginRequired | Kind::ReauthRequired, _) => format!(
                "`{}` takes `key = value` arguments; {}",
                self.name(),
                self.unknown_key("").rsplit("; ").next().unwrap_or_default()
            ),
            _ => format!(
                "`{}` takes one {} first, then `key = value` arguments; for several \
                 permissions write a list: `[A, B]`",
                self.name(),
                if self == Kind::PermissionRequired {
                    "permission or list of permissions"
                } else {
                    "predicate"
                }
            ),
        }
    }
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(kind, attr, item.clone()) {
        Ok(tokens) => tokens,
        // Keep the original item so the rest of the crate still sees it.
        Err(err) => {
            let error = err.into_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(kind: Kind, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let args = Args::parse(&cx, kind, attr);
    cx.check()?;
    let function = match syn::parse2::<Item>(item)? {
        Item::Fn(function) => function,
        other => {
            return Err(syn::Error::new_spanned(
                item_keyword(&other),
                format!("`#[{}]` applies to `async fn` handlers only", kind.name()),
            ));
        }
    };
    check(kind, &function)?;
    let krate = args.krate.clone();
    Ok(crate::krate::scoped(krate, || {
        generate(kind, &args, function)
    }))
}

/// The tokens to point at when the item is not a function.
fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => {
            let token = s.struct_token;
            quote!(#token)
        }
        Item::Enum(e) => {
            let token = e.enum_token;
            quote!(#token)
        }
        Item::Impl(i) => {
            let token = i.impl_token;
            quote!(#token)
        }
        Item::Const(c) => {
            let token = c.const_token;
            quote!(#token)
        }
        other => quote!(#other),
    }
}

fn check(kind: Kind, function: &ItemFn) -> syn::Result<()> {
    let name = kind.name();
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            format!("`#[{name}]` needs an `async fn` handler; add `async` before `fn`"),
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        return Err(syn::Error::new_spanned(
            receiver,
            format!("`#[{name}]` handlers cannot take `self`; make it a free `async fn`"),
        ));
    }
    if sig.inputs.len() >= 16 {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!(
                "`#[{name}]` adds one argument and axum handlers take at most 16; \
                 group some extractors into a struct"
            ),
        ));
    }
    Ok(())
}

fn generate(kind: Kind, args: &Args, mut function: ItemFn) -> TokenStream {
    let krate = crate::krate::path();
    let vis = &function.vis;
    let handler = function.sig.ident.to_string();
    let marker = format_ident!(
        "__auth_{}_{}",
        kind.name(),
        handler.trim_start_matches("r#")
    );
    let login_url = match &args.login_url {
        None => quote!(::core::option::Option::None),
        Some(LoginUrl::Literal(lit)) => quote!(::core::option::Option::Some(#lit)),
        // Checked through a trait whose error says what to write, pointing
        // at the path.
        Some(LoginUrl::Path(path)) => {
            let krate = crate::krate::path_at(path.span());
            let check =
                quote_spanned!(path.span()=> #krate::__private::LoginUrl::login_url(&#path));
            quote!(::core::option::Option::Some(#check))
        }
    };
    let field = match &args.redirect_field_name {
        Some(lit) => quote!(#lit),
        None => quote!(#krate::REDIRECT_FIELD_NAME),
    };
    let (guard, check): (FnArg, TokenStream) = match kind {
        Kind::LoginRequired => (
            syn::parse_quote!(_: #krate::__private::LoginRequired<#marker>),
            TokenStream::new(),
        ),
        Kind::PermissionRequired => (
            syn::parse_quote!(_: #krate::__private::PermissionRequired<#marker>),
            permission_check(&marker, args),
        ),
        Kind::UserPassesTest => (
            syn::parse_quote!(_: #krate::__private::UserPassesTest<#marker>),
            user_test(&marker, args),
        ),
        Kind::ReauthRequired => (
            syn::parse_quote!(_: #krate::__private::ReauthRequired<#marker>),
            reauth_policy(&marker, args),
        ),
    };
    function.sig.inputs.insert(0, guard);
    let declaration = declaration(kind, &marker, &handler);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #[automatically_derived]
        impl #krate::__private::LoginRedirect for #marker {
            fn login_url() -> ::core::option::Option<&'static str> {
                #login_url
            }
            const REDIRECT_FIELD_NAME: &'static str = #field;
        }

        #check

        #declaration

        #function
    }
}

/// The guard's entry in the registry the system checks read at start-up
/// (`auth::checks`): its handler, `login_url` and permissions.
fn declaration(kind: Kind, marker: &syn::Ident, handler: &str) -> TokenStream {
    let krate = crate::krate::path();
    let guard = kind.name();
    let handler = handler.trim_start_matches("r#");
    let permissions = match kind {
        Kind::PermissionRequired => quote! {
            || <#marker as #krate::__private::PermissionCheck>::required().to_vec()
        },
        _ => quote!(::std::vec::Vec::new),
    };
    quote! {
        #krate::__private::inventory::submit! {
            #krate::__private::GuardDeclaration {
                handler: ::core::concat!(::core::module_path!(), "::", #handler),
                guard: #guard,
                login_url: <#marker as #krate::__private::LoginRedirect>::login_url,
                permissions: #permissions,
            }
        }
    }
}

fn reauth_policy(marker: &syn::Ident, args: &Args) -> TokenStream {
    let krate = crate::krate::path();
    let max_age = match &args.max_age {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #[automatically_derived]
        impl #krate::__private::ReauthPolicy for #marker {
            const MAX_AGE: ::core::option::Option<u64> = #max_age;
        }
    }
}

fn permission_check(marker: &syn::Ident, args: &Args) -> TokenStream {
    let krate = crate::krate::path();
    let raise = args.raise_exception;
    let names = args.permissions.iter().map(|perm| match perm {
        Perm::Literal(lit) => quote!(::std::string::String::from(#lit)),
        // The trait bound's message says what may name a permission,
        // pointing at the path.
        Perm::Path(path) => {
            let krate = crate::krate::path_at(path.span());
            quote_spanned! {path.span()=>
                #krate::PermissionName::permission_name(&#path).into_owned()
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::__private::PermissionCheck for #marker {
            const RAISE_EXCEPTION: bool = #raise;
            fn required() -> &'static [::std::string::String] {
                static NAMES: ::std::sync::OnceLock<::std::vec::Vec<::std::string::String>> =
                    ::std::sync::OnceLock::new();
                NAMES.get_or_init(|| ::std::vec![#(#names),*])
            }
        }
    }
}

fn user_test(marker: &syn::Ident, args: &Args) -> TokenStream {
    let krate = crate::krate::path();
    let Some(predicate) = &args.predicate else {
        return TokenStream::new();
    };
    let span = predicate.span();
    let krate_at = crate::krate::path_at(span);
    let call = quote_spanned! {span=>
        {
            #[allow(unused_imports)]
            use #krate_at::__private::AsyncVerdict as _;
            #krate_at::__private::outcome(
                #krate_at::__private::Verdict(__auth_predicate(&*__auth_user)).resolve(),
            )
            .await
        }
    };
    quote! {
        #[automatically_derived]
        impl #krate::__private::UserTest for #marker {
            fn test(__auth_user: #krate::__private::AnyUser) -> #krate::__private::TestFuture {
                ::std::boxed::Box::pin(async move {
                    let __auth_predicate = #predicate;
                    let ::core::option::Option::Some(__auth_user) =
                        #krate::__private::user_for_test(__auth_user, &__auth_predicate)
                    else {
                        return false;
                    };
                    #call
                })
            }
        }
    }
}
