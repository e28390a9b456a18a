//! An `s3://bucket/prefix` that finished files are uploaded to: what is already there (one
//! LIST, paged), and one PUT per file. An S3 PUT is atomic: a
//! reader sees the whole object or none, so an object that exists is a finished one.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use url::Url;

use super::store::{RemoteOptions, describe, one_line, runtime, s3_store};

/// An upload that failed; names the object (or prefix) and says why in one line.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {message}")]
pub struct UploadError {
    /// The object or prefix.
    pub url: String,
    /// Why.
    pub message: String,
}

/// Objects directly under an `s3://bucket/prefix`.
#[derive(Clone)]
pub struct ObjectPrefix {
    store: Arc<dyn ObjectStore>,
    prefix: ObjPath,
    url: Url,
}

impl std::fmt::Debug for ObjectPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.url.as_str())
    }
}

impl ObjectPrefix {
    /// The prefix `s3://BUCKET[/PREFIX]` (the bucket's root without one), with the AWS
    /// settings remote reads use. Nothing is requested yet.
    pub fn open(url: &str, opts: &RemoteOptions) -> Result<Self, UploadError> {
        let fail = |message: String| UploadError {
            url: url.to_string(),
            message,
        };
        let parsed = Url::parse(url).map_err(|e| fail(format!("not a URL: {e}")))?;
        if parsed.scheme() != "s3" {
            return Err(fail(
                "outputs are uploaded to s3://BUCKET/PREFIX only (http(s):// has no standard \
                 upload)"
                    .into(),
            ));
        }
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| fail("an s3:// URL needs a bucket: s3://BUCKET/PREFIX".into()))?;
        let key = parsed.path().trim_matches('/');
        let prefix = ObjPath::from_url_path(key).map_err(|e| fail(one_line(&e.to_string())))?;
        let store = s3_store(bucket, opts).map_err(fail)?;
        Ok(ObjectPrefix {
            store,
            prefix,
            url: parsed,
        })
    }

    /// `s3://bucket/prefix/name`.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}/{name}", self.url.as_str().trim_end_matches('/'))
    }

    fn path(&self, name: &str) -> ObjPath {
        self.prefix.clone().join(name)
    }

    fn fail(&self, name: Option<&str>, e: &object_store::Error) -> UploadError {
        UploadError {
            url: name.map_or_else(|| self.url.to_string(), |n| self.url_of(n)),
            message: describe(e, &self.url),
        }
    }

    fn block_on<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, object_store::Error>>,
        name: Option<&str>,
    ) -> Result<T, UploadError> {
        let rt = runtime().map_err(|message| UploadError {
            url: self.url.to_string(),
            message,
        })?;
        rt.block_on(f).map_err(|e| self.fail(name, &e))
    }

    /// The names of the objects directly under the prefix (one LIST, paged by the store).
    pub fn names(&self) -> Result<BTreeSet<String>, UploadError> {
        let listed = self.block_on(self.store.list_with_delimiter(Some(&self.prefix)), None)?;
        Ok(listed
            .objects
            .iter()
            .filter_map(|o| o.location.filename().map(str::to_string))
            .collect())
    }

    /// Uploads the local file `file` as `name` with one PUT (up to 5 GB, S3's limit for one).
    pub fn put_file(&self, name: &str, file: &Path) -> Result<(), UploadError> {
        let bytes = std::fs::read(file).map_err(|e| UploadError {
            url: self.url_of(name),
            message: format!("cannot read {}: {e}", file.display()),
        })?;
        self.put_bytes(name, bytes)
    }

    /// Downloads the object `name` under the prefix (one GET), e.g. a file the workers of a
    /// run share.
    pub fn get_bytes(&self, name: &str) -> Result<Vec<u8>, UploadError> {
        let path = self.path(name);
        let get = async {
            let res = self.store.get_opts(&path, Default::default()).await?;
            res.bytes().await
        };
        self.block_on(get, Some(name)).map(|b| b.to_vec())
    }

    /// Uploads `bytes` as `name` with one PUT.
    pub fn put_bytes(&self, name: &str, bytes: Vec<u8>) -> Result<(), UploadError> {
        let path = self.path(name);
        self.block_on(self.store.put(&path, PutPayload::from(bytes)), Some(name))
            .map(drop)
    }
}
