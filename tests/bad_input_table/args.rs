//! Command lines of the rows: the tiny model with the arguments under test appended.
//! `{fx}`, `{out}` and `{tiny}` are filled in per row; the strings live for the whole test.

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

const FWD: &str =
    "forward --config tiny-test --weights {tiny}/weights.pth --output {out}/o.safetensors";

/// `forward` of the tiny model with `rest`.
pub(super) fn fwd(rest: &str) -> &'static str {
    leak(format!("{FWD} {rest}"))
}

/// `forward` of a valid input with the weights file `w`.
pub(super) fn fwd_w(w: &str) -> &'static str {
    leak(format!(
        "forward --config tiny-test --weights {w} --input {{fx}}/ok.safetensors \
         --output {{out}}/o.safetensors"
    ))
}

/// `forward` of a valid input with the config file `{fx}/c`.
pub(super) fn fwd_cfg(c: &str) -> &'static str {
    leak(format!(
        "forward --config {{fx}}/{c} --weights {{tiny}}/weights.pth \
         --input {{fx}}/ok.safetensors --output {{out}}/o.safetensors"
    ))
}

/// `bench` of the tiny model with `rest`.
pub(super) fn bench(rest: &str) -> &'static str {
    leak(format!("bench --config tiny-test --reps 1 {rest}"))
}

/// `eval` of the tiny model on `tasks`.
pub(super) fn eval(tasks: &str) -> &'static str {
    leak(format!(
        "eval --model {{tiny}}/weights.pth --config tiny-test --tasks {tasks} \
         --out {{out}}/res"
    ))
}

const EMB: &str = "embed --config tiny-test --weights {tiny}/weights.pth --quiet";

/// `embed` of the crafted scene with `rest`.
pub(super) fn emb(rest: &str) -> &'static str {
    leak(format!(
        "{EMB} {{fx}}/scene.tif --wavelengths 665,560,490 -o {{out}}/e.safetensors {rest}"
    ))
}

/// `embed` of `input` with `rest`.
pub(super) fn emb_in(input: &str, rest: &str) -> &'static str {
    leak(format!("{EMB} {input} -o {{out}}/e.safetensors {rest}"))
}

const PCA: &str = "pca --config tiny-test --weights {tiny}/weights.pth --quiet";

/// `pca` of `input` with `rest`.
pub(super) fn pca(input: &str, rest: &str) -> &'static str {
    leak(format!("{PCA} {input} -o {{out}}/p.png {rest}"))
}
