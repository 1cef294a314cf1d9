//! The base columns of every user table, as the runtime declares them
//! (`auth/src/user/columns.rs`, handed over by `auth::__private::base_columns!`):
//! each field, its type, its `BaseColumn` variant and column options.

use syn::{
    Attribute, Ident, Token, Type, bracketed,
    parse::{Parse, ParseStream},
};

/// One base column.
pub(crate) struct BaseColumn {
    pub(crate) field: Ident,
    pub(crate) ty: Type,
    pub(crate) variant: Ident,
    pub(crate) primary_key: bool,
    pub(crate) unique: bool,
    /// The const holding its length, for text columns.
    pub(crate) max_length: Option<Ident>,
}

/// Every base column, in order.
pub(crate) struct BaseColumns(pub(crate) Vec<BaseColumn>);

impl BaseColumns {
    /// Whether `name` is the field or column of a base column.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|column| column.field == name)
    }
}

impl Parse for BaseColumns {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut columns = Vec::new();
        while !input.is_empty() {
            Attribute::parse_outer(input)?; // the docs
            let field: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![=]>()?;
            let variant: Ident = input.parse()?;
            let options;
            bracketed!(options in input);
            let mut column = BaseColumn {
                field,
                ty,
                variant,
                primary_key: false,
                unique: false,
                max_length: None,
            };
            while !options.is_empty() {
                let key: Ident = options.parse()?;
                match key.to_string().as_str() {
                    "primary_key" => column.primary_key = true,
                    "unique" => column.unique = true,
                    "max_length" => {
                        options.parse::<Token![=]>()?;
                        column.max_length = Some(options.parse()?);
                    }
                    _ => return Err(syn::Error::new(key.span(), "unknown base column option")),
                }
                if !options.is_empty() {
                    options.parse::<Token![,]>()?;
                }
            }
            input.parse::<Token![,]>()?;
            columns.push(column);
        }
        Ok(BaseColumns(columns))
    }
}
