//! WebAssembly modules and components, assembled with the `wasm-encoder` crate the way a
//! toolchain writes them: a core module with one exported function and chosen custom
//! sections, and components nesting modules and components.

use std::borrow::Cow;

use wasm_encoder::{
    CodeSection, Component, CustomSection, ExportKind, ExportSection, Function, FunctionSection,
    Instruction, Module, RawSection, TypeSection, ValType,
};

/// A core module exporting `answer: () -> i32` (it returns 42), with the custom sections
/// `(name, bytes)` after its code, in this order (where `#[link_section]` statics land).
pub fn wasm_module_with_sections(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export("answer", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instruction(&Instruction::I32Const(42));
    body.instruction(&Instruction::End);
    code.function(&body);
    module.section(&code);
    for (name, data) in sections {
        module.section(&CustomSection {
            name: Cow::Borrowed(name),
            data: Cow::Borrowed(data),
        });
    }
    module.finish()
}

/// One section of a component made by [`wasm_component`].
#[derive(Debug, Clone, Copy)]
pub enum WasmPart<'a> {
    /// A core module section holding these module bytes.
    Module(&'a [u8]),
    /// A component section holding these component bytes.
    Component(&'a [u8]),
    /// A custom section.
    Custom(&'a str, &'a [u8]),
}

/// A component made of `parts`, in this order (bytes taken as they are: hostile ones too).
pub fn wasm_component(parts: &[WasmPart<'_>]) -> Vec<u8> {
    let mut component = Component::new();
    for part in parts {
        match *part {
            WasmPart::Module(bytes) => component.section(&RawSection { id: 1, data: bytes }),
            WasmPart::Component(bytes) => component.section(&RawSection { id: 4, data: bytes }),
            WasmPart::Custom(name, data) => component.section(&CustomSection {
                name: Cow::Borrowed(name),
                data: Cow::Borrowed(data),
            }),
        };
    }
    component.finish()
}

/// `value` as an unsigned LEB128 number, as Wasm writes sizes (for tests that forge them).
pub fn leb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
