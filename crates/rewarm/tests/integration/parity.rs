//! The model, checkpoint format and optimiser against Hugging Face `transformers` and
//! `torch.optim.AdamW` (fixtures from scripts/make-rewarm-fixtures.sh).

use rewarm::checkpoint::{self, read_tensors, CheckpointError};
use rewarm::model::Compute;
use rewarm::optim::{AdamW, AdamWConfig};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// The committed fixtures; `REWARM_FIXTURES` points a test binary built elsewhere at them
/// (bench/gpu.sh --prebuilt).
fn fixture(name: &str) -> PathBuf {
    std::env::var_os("REWARM_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .join(name)
}

fn expected(name: &str) -> Vec<(String, Tensor)> {
    read_tensors(&fixture(name).join("expected.safetensors")).unwrap()
}

fn get<'a>(t: &'a [(String, Tensor)], n: &str) -> &'a Tensor {
    &t.iter()
        .find(|(k, _)| k == n)
        .unwrap_or_else(|| panic!("{n} missing"))
        .1
}

/// The device under test: CPU, or `REWARM_TEST_DEVICE=cuda` (bench/gpu.sh runs these tests
/// on the GPU that way; f32 matmuls on CUDA do not use TF32 in libtorch by default).
fn device() -> Device {
    match std::env::var("REWARM_TEST_DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        Ok("cpu") | Err(_) => Device::Cpu,
        Ok(other) => panic!("REWARM_TEST_DEVICE={other:?}: use cpu or cuda"),
    }
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a - b.to_device(a.device())).abs().max().double_value(&[])
}

/// Bounds at about ten times the largest error measured against the fixtures (f32 on a
/// 2-core x86 CPU): logits 8.9e-8, loss 9.5e-7, gradient norms 1.2e-7 (relative). The
/// parameters after two AdamW steps: see `two_adamw_steps_match_torch`.
const LOGIT_TOL: f64 = 1e-6;
const LOSS_TOL: f64 = 1e-5;
const GRAD_NORM_TOL: f64 = 2e-6;

fn check_logits(model_dir: &str, reference: &str) {
    let model = checkpoint::load(&fixture(model_dir), device()).unwrap();
    let exp = expected(reference);
    let ids = &get(&exp, "input_ids").to_device(device());
    let logits = tch::no_grad(|| model.forward(ids));
    let want = get(&exp, "logits");
    assert_eq!(logits.size(), want.size());
    let err = max_abs(&logits, want);
    eprintln!("{model_dir}: max abs logit error vs transformers {err:e}");
    assert!(err < LOGIT_TOL, "{model_dir}: max abs logit error {err}");
    // transformers' loss with labels = input_ids shifts inside the model.
    let t = ids.size()[1];
    let loss = tch::no_grad(|| model.loss(&ids.narrow(1, 0, t - 1), &ids.narrow(1, 1, t - 1)));
    let want = get(&exp, "loss").double_value(&[0]);
    let err = (loss.double_value(&[]) - want).abs();
    eprintln!("{model_dir}: loss error {err:e}");
    assert!(err < LOSS_TOL, "loss {} vs {want}", loss.double_value(&[]));
}

/// Two AdamW steps (decay on matrices only, clipping at 0.5) against torch.optim.AdamW, through
/// the trainer's backward pass (the head and loss chunk by chunk).
fn check_adamw(model_dir: &str, tol: f64) {
    let model = checkpoint::load(&fixture(model_dir), device()).unwrap();
    let exp = expected(model_dir);
    let ids = &get(&exp, "input_ids").to_device(device());
    let x = ids.narrow(1, 0, ids.size()[1] - 1);
    let t = x.size()[1];
    let cfg = AdamWConfig {
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weight_decay: 0.1,
        clip: 0.5,
    };
    let mut opt = AdamW::new(&model.params.list, cfg);
    let norms = get(&exp, "grad_norms");
    for (i, lr) in [1e-2, 5e-3].into_iter().enumerate() {
        opt.zero_grad().unwrap();
        let _ = model
            .backward_loss(&x.narrow(1, 0, t - 1), &x.narrow(1, 1, t - 1), 1.0)
            .unwrap();
        let n = opt.clip_grad_norm().unwrap().double_value(&[]);
        let want = norms.double_value(&[i as i64]);
        let err = (n - want).abs() / want.max(1.0);
        eprintln!("{model_dir}: step {i} relative grad norm error {err:e}");
        assert!(err < GRAD_NORM_TOL, "grad norm {n} vs {want}");
        opt.step(lr).unwrap();
    }
    let mut worst = 0f64;
    for (name, p) in &model.params.list {
        let want = get(&exp, &format!("after.{name}"));
        let err = max_abs(p, want);
        assert!(
            err < tol,
            "{model_dir} {name}: max abs error {err} after two AdamW steps"
        );
        worst = worst.max(err);
    }
    eprintln!("{model_dir}: max abs parameter error vs torch after two AdamW steps {worst:e}");
}

#[test]
fn logits_and_loss_match_transformers_parallel_residual() {
    check_logits("neox-tiny", "neox-tiny");
}

#[test]
fn logits_match_sequential_residual_and_half_rotary() {
    check_logits("neox-tiny-seq", "neox-tiny-seq");
}

#[test]
fn logits_match_tied_embeddings_no_attention_bias_and_gelu_new() {
    for m in ["neox-tiny-tied", "neox-tiny-nobias", "neox-tiny-gelu-new"] {
        check_logits(m, m);
    }
    // Tied: no output embedding is a parameter; no attention bias: none is loaded.
    let tied = checkpoint::load(&fixture("neox-tiny-tied"), Device::Cpu).unwrap();
    assert!(!tied
        .params
        .list
        .iter()
        .any(|(n, _)| n == "embed_out.weight"));
    let nobias = checkpoint::load(&fixture("neox-tiny-nobias"), Device::Cpu).unwrap();
    assert!(!nobias
        .params
        .list
        .iter()
        .any(|(n, _)| n.contains(".attention.") && n.ends_with(".bias")));
}

/// A checkpoint stored in bf16 loads into f32 parameters and gives transformers' f32 logits
/// of the same weights; run with bf16 matmuls (f32 weights and activations, as autocast) or
/// with bf16 working weights and activations (as transformers' model in bf16, which the
/// reference is) it stays near transformers' own bf16 run.
#[test]
fn bf16_checkpoint_loads_and_matches_in_f32_and_bf16() {
    check_logits("neox-tiny-bf16", "neox-tiny-bf16");
    let mut model = checkpoint::load(&fixture("neox-tiny-bf16"), device()).unwrap();
    assert!(model
        .params
        .list
        .iter()
        .all(|(_, t)| t.kind() == Kind::Float));
    let exp = expected("neox-tiny-bf16");
    let ids = &get(&exp, "input_ids").to_device(device());
    let want = get(&exp, "logits_bf16");
    let scale = want.abs().max().double_value(&[]);
    for (c, bound) in [
        (Compute::Mixed, 0.05),
        (Compute::Working(Kind::BFloat16), 0.02),
    ] {
        model.set_compute(c).unwrap();
        let logits = tch::no_grad(|| model.forward(ids));
        let err = max_abs(&logits, want);
        eprintln!("neox-tiny-bf16: max abs logit error of {c:?} vs transformers in bf16 {err:e} (logits up to {scale:.3})");
        // bf16 keeps 8 bits of mantissa: errors of a few units in 2^-8 of the largest logit.
        assert!(err < bound * scale, "{c:?} logits differ by {err}");
    }
    // Back to f32: the modules run on the parameters again.
    model.set_compute(Compute::F32).unwrap();
    let err = max_abs(&tch::no_grad(|| model.forward(ids)), get(&exp, "logits"));
    assert!(err < LOGIT_TOL, "f32 again: {err}");
}

#[test]
fn sharded_checkpoint_with_index_loads() {
    check_logits("neox-tiny-sharded", "neox-tiny");
}

/// Adam divides by the root of tiny second moments, so float rounding in the gradients shows
/// up magnified: two runs of torch itself on different CPUs differ by up to 4e-6. Bounds are
/// about ten times the error measured for each model (5.6e-6, 5.5e-6, 1.0e-5, 2.6e-6, 7.1e-6,
/// 2.4e-5).
#[test]
fn two_adamw_steps_match_torch() {
    for (m, tol) in [
        ("neox-tiny", 6e-5),
        ("neox-tiny-seq", 6e-5),
        ("neox-tiny-tied", 1e-4),
        ("neox-tiny-nobias", 3e-5),
        ("neox-tiny-gelu-new", 8e-5),
        ("neox-tiny-bf16", 2.5e-4),
    ] {
        check_adamw(m, tol);
    }
}

#[test]
fn saved_checkpoint_reloads_identically_in_hf_layout() {
    let model = checkpoint::load(&fixture("neox-tiny"), Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ck");
    checkpoint::save(&out, &model, None, false).unwrap();
    // Same tensor names, shapes and values as the file transformers wrote.
    let ours = read_tensors(&out.join("model.safetensors")).unwrap();
    let theirs = read_tensors(&fixture("neox-tiny").join("model.safetensors")).unwrap();
    let names = |v: &[(String, Tensor)]| {
        v.iter()
            .map(|(n, t)| (n.clone(), t.size()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&ours), names(&theirs));
    for ((_, a), (_, b)) in ours.iter().zip(&theirs) {
        assert_eq!(a.kind(), Kind::Float);
        assert!(a.equal(b));
    }
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["model_type"], "gpt_neox");
    assert_eq!(cfg["architectures"][0], "GPTNeoXForCausalLM");
    let back = checkpoint::load(&out, Device::Cpu).unwrap();
    assert_eq!(back.cfg, model.cfg);
}

#[test]
fn mismatched_checkpoints_name_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    std::fs::create_dir_all(&ck).unwrap();
    let src = fixture("neox-tiny");
    // config says 3 layers, file holds 2: the missing tensor is named.
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    cfg["num_hidden_layers"] = 3.into();
    std::fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    std::fs::copy(src.join("model.safetensors"), ck.join("model.safetensors")).unwrap();
    let e = format!("{:#}", checkpoint::load(&ck, Device::Cpu).err().unwrap());
    assert!(
        e.contains("gpt_neox.layers.2.input_layernorm.weight") && e.contains("missing"),
        "{e}"
    );
    // hidden size 64 instead of 32: a shape error naming tensor and file.
    cfg["num_hidden_layers"] = 2.into();
    cfg["hidden_size"] = 64.into();
    std::fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    let err = checkpoint::load(&ck, Device::Cpu).err().unwrap();
    assert!(
        matches!(&err, CheckpointError::Shape { path, tensor, found, expected }
            if path.ends_with("model.safetensors") && tensor == "embed_out.weight"
                && found == &[64, 32] && expected == &[64, 64]),
        "{err:?}"
    );
    let e = format!("{:#}", anyhow::Error::from(err));
    assert!(
        e.contains("model.safetensors")
            && e.contains("has shape [64, 32], config.json implies [64, 64]"),
        "{e}"
    );
    // an extra tensor the architecture does not have.
    let mut tensors = read_tensors(&src.join("model.safetensors")).unwrap();
    tensors.push((
        "gpt_neox.layers.0.mlp.gate.weight".into(),
        Tensor::zeros([2, 2], (Kind::Float, Device::Cpu)),
    ));
    let named: Vec<(String, &Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t)).collect();
    checkpoint::write_tensors(&ck.join("model.safetensors"), &named).unwrap();
    cfg["hidden_size"] = 32.into();
    std::fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    let err = checkpoint::load(&ck, Device::Cpu).err().unwrap();
    assert!(
        matches!(&err, CheckpointError::UnknownTensor { tensor, .. }
            if tensor == "gpt_neox.layers.0.mlp.gate.weight"),
        "{err:?}"
    );
    let e = format!("{:#}", anyhow::Error::from(err));
    assert!(e.contains("gpt_neox.layers.0.mlp.gate.weight"), "{e}");
    // a config key missing.
    cfg.as_object_mut().unwrap().remove("hidden_size");
    std::fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    let e = format!("{:#}", checkpoint::load(&ck, Device::Cpu).err().unwrap());
    assert!(
        e.contains("config.json") && e.contains("hidden_size"),
        "{e}"
    );
    // an integer tensor where a weight belongs.
    cfg["hidden_size"] = 32.into();
    std::fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    let mut tensors = read_tensors(&src.join("model.safetensors")).unwrap();
    tensors[0].1 = tensors[0].1.to_kind(Kind::Int64);
    let bad = tensors[0].0.clone();
    let named: Vec<(String, &Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t)).collect();
    checkpoint::write_tensors(&ck.join("model.safetensors"), &named).unwrap();
    let err = checkpoint::load(&ck, Device::Cpu).err().unwrap();
    assert!(
        matches!(&err, CheckpointError::Dtype { tensor, .. } if *tensor == bad),
        "{err:?}"
    );
    let e = format!("{:#}", anyhow::Error::from(err));
    assert!(e.contains(&bad) && e.contains("integer"), "{e}");
    // no config.json at all: a missing file, named.
    std::fs::remove_file(ck.join("config.json")).unwrap();
    let err = checkpoint::load(&ck, Device::Cpu).err().unwrap();
    assert!(
        matches!(&err, CheckpointError::Missing { path } if *path == ck.join("config.json")),
        "{err:?}"
    );
}
