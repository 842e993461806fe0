//! Hugging Face checkpoint folders: `config.json` + `model.safetensors` (or shards listed in
//! `model.safetensors.index.json`). What `transformers` saves loads here, and the reverse.

use crate::config::ModelConfig;
use crate::model::{param_specs, Given, GptNeox};
use anyhow::{bail, Context, Result};
use safetensors::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// Buffers that older `transformers` versions saved and that carry no learned state.
fn is_ignored_buffer(name: &str) -> bool {
    name.ends_with(".attention.bias")
        || name.ends_with(".attention.masked_bias")
        || name.ends_with("rotary_emb.inv_freq")
}

/// A tensor's bytes ready to serialise (always copied to CPU first).
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn to_raw(t: &Tensor) -> Result<Raw> {
    let (kind, dtype, width) = match t.kind() {
        Kind::BFloat16 => (Kind::BFloat16, Dtype::BF16, 2),
        Kind::Half => (Kind::Half, Dtype::F16, 2),
        Kind::Int64 => (Kind::Int64, Dtype::I64, 8),
        _ => (Kind::Float, Dtype::F32, 4),
    };
    let t = t.detach().to_device(Device::Cpu).to_kind(kind).contiguous();
    let numel = t.numel();
    let mut bytes = vec![0u8; numel * width];
    t.f_copy_data_u8(&mut bytes, numel)?;
    Ok(Raw {
        dtype,
        shape: t.size().iter().map(|&d| d as usize).collect(),
        bytes,
    })
}

/// Writes tensors to one safetensors file (tagged `format: pt`, which `transformers` requires).
pub fn write_tensors(path: &Path, tensors: &[(String, &Tensor)]) -> Result<()> {
    let raws = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), to_raw(t)?)))
        .collect::<Result<Vec<_>>>()?;
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(raws.iter().map(|(n, r)| (n.as_str(), r)), Some(meta), path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads every tensor of a safetensors file, keeping its stored kind.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: the file is only read, and this process does not write it while mapped.
    let mmap = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("mapping {}", path.display()))?;
    let st = SafeTensors::deserialize(&mmap)
        .with_context(|| format!("{}: not a valid safetensors file", path.display()))?;
    let mut out = Vec::new();
    for (name, view) in st.tensors() {
        let kind = match view.dtype() {
            Dtype::F32 => Kind::Float,
            Dtype::F16 => Kind::Half,
            Dtype::BF16 => Kind::BFloat16,
            Dtype::F64 => Kind::Double,
            Dtype::I64 => Kind::Int64,
            d => bail!(
                "{}: tensor {name} has dtype {d:?}, expected a float type",
                path.display()
            ),
        };
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        out.push((name, Tensor::from_data_size(view.data(), &shape, kind)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The weight files of a checkpoint folder, each with the tensor names it should hold.
fn weight_files(dir: &Path) -> Result<Vec<(PathBuf, Option<Vec<String>>)>> {
    let single = dir.join("model.safetensors");
    let index = dir.join("model.safetensors.index.json");
    if single.exists() {
        return Ok(vec![(single, None)]);
    }
    if index.exists() {
        #[derive(serde::Deserialize)]
        struct Index {
            weight_map: BTreeMap<String, String>,
        }
        let text = std::fs::read_to_string(&index)?;
        let idx: Index = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected a `weight_map` object", index.display()))?;
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (tensor, file) in idx.weight_map {
            if !outdir::is_plain_relative(Path::new(&file)) {
                bail!(
                    "{}: tensor {tensor} maps to {file:?}, which is not a file inside the checkpoint folder",
                    index.display()
                );
            }
            files.entry(file).or_default().push(tensor);
        }
        return Ok(files
            .into_iter()
            .map(|(f, names)| (dir.join(f), Some(names)))
            .collect());
    }
    bail!(
        "{}: no model.safetensors or model.safetensors.index.json",
        dir.display()
    )
}

/// Loads a checkpoint folder, checking every tensor's name and shape against `config.json`.
pub fn load(dir: &Path, device: Device) -> Result<GptNeox> {
    let cfg = ModelConfig::load(&dir.join("config.json"))?;
    crate::model::check_memory(&cfg, 1, device)?;
    let specs = param_specs(&cfg);
    let expected: HashMap<&str, &Vec<i64>> =
        specs.iter().map(|s| (s.name.as_str(), &s.shape)).collect();
    let mut found: HashMap<String, Tensor> = HashMap::new();
    for (file, listed) in weight_files(dir)? {
        let tensors = read_tensors(&file)?;
        if let Some(listed) = listed {
            for name in &listed {
                if !tensors.iter().any(|(n, _)| n == name) {
                    bail!(
                        "{}: tensor {name} is listed in the index but missing from the file",
                        file.display()
                    );
                }
            }
        }
        for (name, t) in tensors {
            if is_ignored_buffer(&name) {
                continue;
            }
            if cfg.tie_word_embeddings && name == "embed_out.weight" {
                continue;
            }
            let Some(shape) = expected.get(name.as_str()) else {
                bail!(
                    "{}: tensor {name} is not part of a GPT-NeoX model with this config.json",
                    file.display()
                );
            };
            if &t.size() != *shape {
                bail!(
                    "{}: tensor {name} has shape {:?}, config.json implies {:?}",
                    file.display(),
                    t.size(),
                    shape
                );
            }
            if t.kind() == Kind::Int64 {
                bail!("{}: tensor {name} is an integer tensor", file.display());
            }
            if !bool::try_from(t.isfinite().all())? {
                bail!(
                    "{}: tensor {name} holds NaN or infinite values; this checkpoint cannot be trained or evaluated",
                    file.display()
                );
            }
            found.insert(name, t);
        }
    }
    GptNeox::load(
        cfg,
        Given {
            tensors: found,
            device,
            origin: dir.to_path_buf(),
        },
        device,
    )
}

/// Writes `config.json` and `model.safetensors` into `dir` (which must exist).
pub fn save_weights(dir: &Path, model: &GptNeox) -> Result<()> {
    let cfg = serde_json::to_string_pretty(&model.cfg.to_hf_json())?;
    std::fs::write(dir.join("config.json"), cfg)?;
    let named: Vec<(String, &Tensor)> = model
        .params
        .list
        .iter()
        .map(|(n, t)| (n.clone(), t))
        .collect();
    write_tensors(&dir.join("model.safetensors"), &named)
}

/// What `rewarm init` writes in the ownership marker of its checkpoint folders (`rewarm train`
/// writes [`crate::run_dir::OWNER`] in its run's checkpoints).
pub const OWNER: &str = "rewarm init";

/// The marker of checkpoints written by earlier builds.
const EARLIER_MARKER: &str = "rewarm checkpoint";

/// Whether `dir` is a checkpoint folder that rewarm made (`rewarm init`'s, a run's, or one of an
/// earlier build): one that a new checkpoint may replace.
pub fn made_here(dir: &Path) -> bool {
    outdir::owner_of(dir)
        .is_some_and(|o| [OWNER, crate::run_dir::OWNER, EARLIER_MARKER].contains(&o.as_str()))
}

/// Saves a model as a Hugging Face checkpoint folder, atomically. An existing `dir` is
/// replaced only when it is empty or a rewarm checkpoint, unless `force`.
pub fn save(dir: &Path, model: &GptNeox, force: bool) -> Result<()> {
    outdir::replace_dir(dir, OWNER, force || made_here(dir), |tmp| {
        save_weights(tmp, model)
    })
}
