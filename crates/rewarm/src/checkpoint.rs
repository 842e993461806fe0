//! Hugging Face checkpoint folders: `config.json` + `model.safetensors` (or shards listed in
//! `model.safetensors.index.json`), with the tokenizer files when the tokenizer is known.
//! What `transformers` saves loads here, and the reverse.

use crate::config::ModelConfig;
use crate::model::{param_specs, Given, GptNeox};
use crate::tokenize::hf;
use safetensors::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};
use tokenizers::Tokenizer;

/// What went wrong reading or writing a checkpoint, each with the file (and tensor) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file a checkpoint needs is not there (`config.json`, a weight file).
    #[error("{}: no such file; a checkpoint folder holds config.json and model.safetensors", path.display())]
    Missing { path: PathBuf },
    /// The folder holds no weights.
    #[error("{}: no model.safetensors or model.safetensors.index.json", dir.display())]
    NoWeights { dir: PathBuf },
    /// A file could not be opened, read, mapped or written.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A weight file that safetensors cannot read, or cannot write.
    #[error("{}: {what}", path.display())]
    Safetensors {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// `model.safetensors.index.json` is not what `transformers` writes.
    #[error("{}: {what}", path.display())]
    Index { path: PathBuf, what: String },
    /// A tensor the index lists is not in its file.
    #[error("{}: tensor {tensor} is listed in the index but missing from the file", path.display())]
    MissingTensor { path: PathBuf, tensor: String },
    /// A tensor that a GPT-NeoX model with this `config.json` does not have.
    #[error("{}: tensor {tensor} is not part of a GPT-NeoX model with this config.json", path.display())]
    UnknownTensor { path: PathBuf, tensor: String },
    #[error("{}: tensor {tensor} has shape {found:?}, config.json implies {expected:?}", path.display())]
    Shape {
        path: PathBuf,
        tensor: String,
        found: Vec<i64>,
        expected: Vec<i64>,
    },
    #[error("{}: tensor {tensor} has dtype {found}, expected a float type", path.display())]
    Dtype {
        path: PathBuf,
        tensor: String,
        found: String,
    },
    #[error("{}: tensor {tensor} holds NaN or infinite values; this checkpoint cannot be trained or evaluated", path.display())]
    NonFinite { path: PathBuf, tensor: String },
    /// `config.json` is unreadable or incompatible, the model does not fit, or the model
    /// refuses the tensors (one missing): the config's or the model's own message.
    #[error(transparent)]
    Model(anyhow::Error),
    /// The folder to save into is refused (another tool's, or not empty) or cannot be
    /// replaced: the message of [`outdir::replace_dir`].
    #[error(transparent)]
    Folder(anyhow::Error),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

type Result<T, E = CheckpointError> = std::result::Result<T, E>;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError {
    let path = path.to_path_buf();
    move |source| CheckpointError::Io {
        action,
        path,
        source,
    }
}

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
        .map_err(|source| match source {
            safetensors::SafeTensorError::IoError(e) => io("writing", path)(e),
            source => CheckpointError::Safetensors {
                path: path.to_path_buf(),
                what: "cannot be written as safetensors",
                source,
            },
        })
}

/// Reads every tensor of a safetensors file, keeping its stored kind.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let file = std::fs::File::open(path).map_err(io("opening", path))?;
    // SAFETY: the file is only read, and this process does not write it while mapped.
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(io("mapping", path))?;
    let st = SafeTensors::deserialize(&mmap).map_err(|source| CheckpointError::Safetensors {
        path: path.to_path_buf(),
        what: "not a valid safetensors file",
        source,
    })?;
    let mut out = Vec::new();
    for (name, view) in st.tensors() {
        let kind = match view.dtype() {
            Dtype::F32 => Kind::Float,
            Dtype::F16 => Kind::Half,
            Dtype::BF16 => Kind::BFloat16,
            Dtype::F64 => Kind::Double,
            Dtype::I64 => Kind::Int64,
            d => {
                return Err(CheckpointError::Dtype {
                    path: path.to_path_buf(),
                    tensor: name,
                    found: format!("{d:?}"),
                })
            }
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
        let text = std::fs::read_to_string(&index).map_err(io("reading", &index))?;
        let idx: Index = serde_json::from_str(&text).map_err(|e| CheckpointError::Index {
            path: index.clone(),
            what: format!("expected a `weight_map` object: {e}"),
        })?;
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (tensor, file) in idx.weight_map {
            if !outdir::is_plain_relative(Path::new(&file)) {
                return Err(CheckpointError::Index {
                    path: index,
                    what: format!("tensor {tensor} maps to {file:?}, which is not a file inside the checkpoint folder"),
                });
            }
            files.entry(file).or_default().push(tensor);
        }
        return Ok(files
            .into_iter()
            .map(|(f, names)| (dir.join(f), Some(names)))
            .collect());
    }
    Err(CheckpointError::NoWeights {
        dir: dir.to_path_buf(),
    })
}

/// Loads a checkpoint folder, checking every tensor's name and shape against `config.json`.
pub fn load(dir: &Path, device: Device) -> Result<GptNeox> {
    let config = dir.join("config.json");
    if !config.exists() {
        return Err(CheckpointError::Missing { path: config });
    }
    let cfg = ModelConfig::load(&config).map_err(CheckpointError::Model)?;
    crate::model::check_memory(&cfg, 1, device).map_err(CheckpointError::Model)?;
    let specs = param_specs(&cfg);
    let expected: HashMap<&str, &Vec<i64>> =
        specs.iter().map(|s| (s.name.as_str(), &s.shape)).collect();
    let mut found: HashMap<String, Tensor> = HashMap::new();
    for (file, listed) in weight_files(dir)? {
        if !file.exists() {
            return Err(CheckpointError::Missing { path: file });
        }
        let tensors = read_tensors(&file)?;
        if let Some(listed) = listed {
            if let Some(name) = listed
                .into_iter()
                .find(|name| !tensors.iter().any(|(n, _)| n == name))
            {
                return Err(CheckpointError::MissingTensor {
                    path: file,
                    tensor: name,
                });
            }
        }
        for (name, t) in tensors {
            if is_ignored_buffer(&name) {
                continue;
            }
            if cfg.tie_word_embeddings && name == "embed_out.weight" {
                continue;
            }
            let path = file.clone();
            let Some(shape) = expected.get(name.as_str()) else {
                return Err(CheckpointError::UnknownTensor { path, tensor: name });
            };
            if &t.size() != *shape {
                return Err(CheckpointError::Shape {
                    path,
                    tensor: name,
                    found: t.size(),
                    expected: shape.to_vec(),
                });
            }
            if t.kind() == Kind::Int64 {
                return Err(CheckpointError::Dtype {
                    path,
                    tensor: name,
                    found: "I64 (an integer tensor)".into(),
                });
            }
            if !bool::try_from(t.isfinite().all())? {
                return Err(CheckpointError::NonFinite { path, tensor: name });
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
    .map_err(CheckpointError::Model)
}

/// Writes `config.json` and `model.safetensors` into `dir` (which must exist) and, given the
/// tokenizer the model was trained with, the tokenizer files that make the folder a complete
/// Hugging Face model ([`hf::write_checkpoint_files`]; `config.json` then carries its ids).
pub fn save_weights(dir: &Path, model: &GptNeox, tok: Option<&Tokenizer>) -> Result<()> {
    let mut json = model.cfg.to_hf_json();
    if let Some(tok) = tok {
        hf::set_token_ids(&mut json, tok).map_err(CheckpointError::Model)?;
        hf::write_checkpoint_files(dir, tok, model.cfg.max_position_embeddings)
            .map_err(CheckpointError::Model)?;
    }
    let cfg = serde_json::to_string_pretty(&json).map_err(|e| CheckpointError::Model(e.into()))?;
    let config = dir.join("config.json");
    std::fs::write(&config, cfg).map_err(io("writing", &config))?;
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

/// Saves a model (with its tokenizer, see [`save_weights`]) as a Hugging Face checkpoint
/// folder, atomically. An existing `dir` is replaced only when it is empty or a rewarm
/// checkpoint, unless `force`.
pub fn save(dir: &Path, model: &GptNeox, tok: Option<&Tokenizer>, force: bool) -> Result<()> {
    outdir::replace_dir(dir, OWNER, force || made_here(dir), |tmp| {
        Ok(save_weights(tmp, model, tok)?)
    })
    .map_err(|e| {
        e.downcast::<CheckpointError>()
            .unwrap_or_else(CheckpointError::Folder)
    })
}
