//! Finds the future a non-`async` function returns, so the expansion can time the work
//! rather than the creation of the future.
//!
//! `#[async_trait]` on an `impl` block expands before the attributes on its methods, so a
//! tracked method there arrives rewritten as a plain function whose body ends in
//! `Box::pin(async move { .. })`. Hand-written futures look the same
//! (`-> Pin<Box<dyn Future<..>>>` or `-> impl Future<..>` ending in an `async` block). The
//! shapes recognised, as the function body's tail expression:
//!
//! ```text
//! Box::pin(async move { .. })        // any path ending in `Box::pin`
//! async move { .. }                  // also without `move`
//! ```
//!
//! Statements before the tail are left alone and run when the function is called.

use syn::{Expr, Stmt};

/// The `async` block at the tail of `stmts`, when there is one in a recognised shape.
pub(crate) fn tail_future(stmts: &mut [Stmt]) -> Option<&mut Expr> {
    let Some(Stmt::Expr(tail, None)) = stmts.last_mut() else {
        return None;
    };
    if matches!(tail, Expr::Async(_)) {
        return Some(tail);
    }
    let Expr::Call(call) = tail else {
        return None;
    };
    if !is_box_pin(&call.func) || call.args.len() != 1 {
        return None;
    }
    let argument = call.args.first_mut()?;
    if matches!(argument, Expr::Async(_)) {
        Some(argument)
    } else {
        None
    }
}

/// `Box::pin`, `std::boxed::Box::pin`, `::alloc::boxed::Box::pin`, `Box::<T>::pin`...
fn is_box_pin(func: &Expr) -> bool {
    let Expr::Path(path) = func else {
        return false;
    };
    if path.qself.is_some() {
        return false;
    }
    let segments: Vec<_> = path.path.segments.iter().collect();
    match segments.as_slice() {
        [.., boxed, pin] => boxed.ident == "Box" && pin.ident == "pin" && pin.arguments.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(body: &str) -> Vec<Stmt> {
        let block: syn::Block = syn::parse_str(body).expect("test body parses");
        block.stmts
    }

    #[test]
    fn finds_async_trait_bodies() {
        for body in [
            "{ Box::pin(async move { 1 }) }",
            "{ ::std::boxed::Box::pin(async move { 1 }) }",
            "{ let x = 1; Box::pin(async { x }) }",
            "{ async move { 1 } }",
        ] {
            assert!(tail_future(&mut stmts(body)).is_some(), "{body}");
        }
    }

    #[test]
    fn ignores_other_bodies() {
        for body in [
            "{ Box::pin(async move { 1 }); }",
            "{ Box::new(async move { 1 }) }",
            "{ Box::pin(fut) }",
            "{ Pin::new(async move { 1 }) }",
            "{ 1 }",
            "{}",
        ] {
            assert!(tail_future(&mut stmts(body)).is_none(), "{body}");
        }
    }
}
