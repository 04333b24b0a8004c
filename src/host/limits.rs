//! Naming the engine limit that stopped a script, for runbooks and partner scripts alike.

use rhai::{Engine, EvalAltResult, ParseErrorType};

/// Describes the limit of `engine` that `error` reports, such as "exceeded the limit of
/// 32 nested function calls", or `None` when the error is not about a limit. Looks through
/// function-call and module wrappers, because a limit is often reached inside a function.
pub fn describe_limit(error: &EvalAltResult, engine: &Engine) -> Option<String> {
    let reason = match innermost(error) {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!("the limit of {} operations", engine.max_operations())
        }
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "the limit of {} nested function calls",
            engine.max_call_levels()
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => data_limit(what, engine),
        EvalAltResult::ErrorTooManyVariables(_) => {
            format!("the limit of {} variables", engine.max_variables())
        }
        EvalAltResult::ErrorTooManyModules(_) => {
            format!("the limit of {} imported modules", engine.max_modules())
        }
        EvalAltResult::ErrorParsing(ParseErrorType::ExprTooDeep, _) => format!(
            "the limit of {} nested expressions ({} inside functions)",
            engine.max_expr_depth(),
            engine.max_function_expr_depth()
        ),
        EvalAltResult::ErrorParsing(ParseErrorType::TooManyFunctions, _) => {
            format!("the limit of {} functions", engine.max_functions())
        }
        _ => return None,
    };
    Some(format!("exceeded {reason}"))
}

/// Finds the error that started a chain of function-call and module wrappers.
pub fn innermost(error: &EvalAltResult) -> &EvalAltResult {
    match error {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost(inner),
        other => other,
    }
}

/// Rhai names the data in its message: "Length of string", "Size of array/BLOB", "Size of
/// object map" (rhai 1.27).
fn data_limit(what: &str, engine: &Engine) -> String {
    if what.contains("string") {
        format!("the limit of {} bytes per string", engine.max_string_size())
    } else if what.contains("map") {
        format!("the limit of {} map entries", engine.max_map_size())
    } else {
        format!("the limit of {} array elements", engine.max_array_size())
    }
}
