//! The UI's generated door to Rust (test builds only): `ui/src/commands.ts` holds one typed
//! wrapper per window command (from the `commands!` table) and one typed listener per event
//! the window sends (from `crate::desktop`'s table), so a command, argument or event renamed in
//! Rust fails the UI's type check. `bindings_commands_are_current` fails when the file is stale.

/// `snake_case` → `camelCase`, as Tauri renames command arguments.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `ui/src/commands.ts`: one typed wrapper per command.
pub fn typescript_commands() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/commands.rs by `UPDATE_BINDINGS=1 cargo test --workspace bindings`.\n// Do not edit by hand.\n\nimport { invoke } from \"@tauri-apps/api/core\";\nimport { listen, type UnlistenFn } from \"@tauri-apps/api/event\";\nimport type * as T from \"./bindings\";\n\n",
    );
    let qualify = |ts: &str| qualify_wire_names(ts);
    for c in crate::commands::signatures() {
        let params: Vec<String> = c
            .args
            .iter()
            .map(|(arg, ty)| format!("{}: {}", camel(arg), qualify(ty)))
            .collect();
        let keys: Vec<String> = c.args.iter().map(|(arg, _)| camel(arg)).collect();
        let payload = if keys.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", keys.join(", "))
        };
        out.push_str(&format!(
            "export const {} = ({}): Promise<{}> => invoke(\"{}\"{});\n",
            camel(c.name),
            params.join(", "),
            qualify(&c.returns),
            c.name,
            payload
        ));
    }
    out.push('\n');
    for (name, payload) in crate::desktop::event_signatures() {
        let payload = qualify(&payload);
        out.push_str(&format!(
            "export const {} = (handler: (payload: {payload}) => void): Promise<UnlistenFn> => listen<{payload}>(\"{name}\", (event) => handler(event.payload));\n",
            camel(&format!("on_{}", name.replace('-', "_"))),
        ));
    }
    out
}

/// Prefixes the generated wire types' names with `T.` (they live in `bindings.ts`).
fn qualify_wire_names(ts: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().next().is_some_and(char::is_uppercase) && word != "Array" {
            out.push_str("T.");
        }
        out.push_str(word);
        word.clear();
    };
    for c in ts.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI calls commands through generated wrappers, never by hand-typed names: this fails
    /// when `ui/src/commands.ts` no longer matches the table above.
    #[test]
    fn bindings_commands_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/commands.ts");
        let expected = typescript_commands();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &expected).expect("write commands.ts");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "ui/src/commands.ts is stale; run `UPDATE_BINDINGS=1 cargo test --workspace bindings` and commit it"
        );
    }

    #[test]
    fn arguments_are_renamed_as_tauri_does() {
        assert_eq!(camel("creator_id"), "creatorId");
        assert_eq!(camel("on_progress"), "onProgress");
        assert_eq!(
            qualify_wire_names("Array<SourceRow> | null"),
            "Array<T.SourceRow> | null"
        );
    }
}
