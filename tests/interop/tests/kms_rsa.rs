//! The AWS KMS RSA keyring against the official aws-db-esdk, both through
//! moto's KMS (tools/moto/launch.py: real RSAES-OAEP Decrypt and GetPublicKey
//! for RSA ENCRYPT_DECRYPT keys). For RSA_2048 and RSA_4096 and both
//! encryption algorithms, with suite 0x6700 (the keyring refuses 0x6701):
//! - records sealed by fieldseal's `AwsKmsRsaKeyring` holding ONLY the public
//!   key (fetched by fieldseal's `get_public_key_pem`; no KMS client) open in
//!   the official SDK through its KMS RSA keyring (`create_aws_kms_rsa_keyring`);
//! - records sealed by the official's KMS RSA keyring open in fieldseal, with
//!   exactly one Decrypt (carrying the encryption algorithm) per record;
//! - the wrong encryption algorithm fails on both sides.
//!
//! The private keys live only in moto, so a record opens only if KMS really
//! RSA-decrypted what the other implementation sealed.
//! Without moto: a loud skip, a failure under CI (runner::run_with_moto).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_kms::types::{EncryptionAlgorithmSpec, KeySpec, KeyUsageType};
use fieldseal::keyring::kms::AwsKmsKeyring;
use fieldseal::keyring::kms::{
    get_public_key_pem, DecryptRequest, DecryptResponse, EncryptionAlgorithm,
    GenerateDataKeyRequest, GenerateDataKeyResponse, KmsClient, KmsError,
};
use fieldseal::keyring::AwsKmsRsaKeyring;
use fieldseal::{AlgorithmSuiteId, CryptoAction, Item, ItemEncryptor};
use fieldseal_interop::aws_clients::{create_kms_key, kms_client, Endpoint, SdkKms};
use fieldseal_interop::convert::show;
use fieldseal_interop::manifest::{item_from_json, item_to_json};
use fieldseal_interop::moto::{Moto, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use fieldseal_interop::runner::{ensure, run_with_moto, Runner};
use fieldseal_interop::shapes::{all_types, Shape};
use fieldseal_interop::{block_on, canonical, ddb_equal, npm, official};
use serde_json::{json, Value};

const REGION: &str = "us-east-1";
const SUITE: AlgorithmSuiteId = AlgorithmSuiteId::AesGcmHkdfSha512CommitKeySymsigHmacSha384;
const ALGORITHMS: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RsaesOaepSha256,
    EncryptionAlgorithm::RsaesOaepSha1,
];

/// An [`SdkKms`] that counts Decrypt calls and remembers their algorithms.
struct Counting {
    inner: SdkKms,
    decrypts: AtomicUsize,
    algorithms: std::sync::Mutex<Vec<Option<EncryptionAlgorithm>>>,
}

#[async_trait(?Send)]
impl KmsClient for Counting {
    async fn generate_data_key(
        &self,
        request: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.inner.generate_data_key(request).await
    }

    async fn decrypt(&self, request: DecryptRequest) -> Result<DecryptResponse, KmsError> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        self.algorithms
            .lock()
            .unwrap()
            .push(request.encryption_algorithm);
        self.inner.decrypt(request).await
    }
}

fn official_algorithm(a: EncryptionAlgorithm) -> EncryptionAlgorithmSpec {
    EncryptionAlgorithmSpec::from(a.name())
}

async fn create_rsa_key(endpoint: &Endpoint, spec: KeySpec) -> Result<String, String> {
    let out = kms_client(endpoint, REGION)
        .create_key()
        .key_spec(spec.clone())
        .key_usage(KeyUsageType::EncryptDecrypt)
        .description(format!("fieldseal kms rsa interop {}", spec.as_str()))
        .send()
        .await
        .map_err(|e| format!("CreateKey: {}", aws_sdk_kms::error::DisplayErrorContext(&e)))?;
    out.key_metadata
        .and_then(|m| m.arn)
        .ok_or_else(|| "CreateKey returned no ARN".to_string())
}

fn fs_encryptor(shape: &Shape, keyring: AwsKmsRsaKeyring) -> Result<ItemEncryptor, String> {
    ItemEncryptor::new(shape.table.encryptor_config(Arc::new(keyring)))
        .map_err(|e| format!("fieldseal config: {e}"))
}

/// The official KMS RSA keyring with both the public key and a KMS client (at moto).
fn official_encryptor(
    shape: &Shape,
    endpoint: &Endpoint,
    arn: &str,
    pem: &str,
    algorithm: EncryptionAlgorithm,
) -> Result<aws_db_esdk::item_encryptor::client::Client, String> {
    block_on(async {
        let keyring = official::mpl()?
            .create_aws_kms_rsa_keyring()
            .kms_key_id(arn)
            .public_key(pem.as_bytes().to_vec())
            .encryption_algorithm(official_algorithm(algorithm))
            .kms_client(kms_client(endpoint, REGION))
            .send()
            .await
            .map_err(|e| format!("create_aws_kms_rsa_keyring: {e:?}"))?;
        official::encryptor_with_keyring(&shape.table, keyring)
    })
}

/// A decrypted item against the plaintext: ENCRYPT_AND_SIGN values in
/// canonical form, the rest equal as DynamoDB values.
fn check(shape: &Shape, got: &Item) -> Result<(), String> {
    for (k, v) in &shape.input {
        let g = got.get(k).ok_or_else(|| format!("missing {k:?}"))?;
        let ok = if shape.table.actions.get(k) == Some(&CryptoAction::EncryptAndSign) {
            *g == canonical(v).map_err(|e| e.to_string())?
        } else {
            ddb_equal(g, v)
        };
        if !ok {
            return Err(format!("{k:?}: got {} want {}", show(g), show(v)));
        }
    }
    Ok(())
}

fn main() {
    run_with_moto(
        "kms rsa interop",
        "The KMS RSA keyring interop test",
        cases,
        |t| format!("{} passed, {} failed{}", t.passed, t.failed, t.skipped),
    )
}

fn cases(r: &mut Runner, moto: &Moto) {
    let endpoint = Endpoint {
        url: moto.endpoint.clone(),
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
    };
    let shape = all_types().with_suite(SUITE);
    let sdk = || SdkKms {
        client: kms_client(&endpoint, REGION),
    };
    // SdkKms now chooses between an asymmetric and a symmetric Decrypt: the
    // symmetric one must still send the encryption context (the patched moto
    // binds it strictly), so a symmetric round trip through it still opens.
    r.case(
        "symmetric key: AwsKmsKeyring over SdkKms still round-trips",
        || {
            let arn = block_on(create_kms_key(
                &endpoint,
                REGION,
                "fieldseal kms rsa interop symmetric",
            ))?;
            let keyring = AwsKmsKeyring::new(&arn, None, Arc::new(sdk()), vec![])
                .map_err(|e| e.to_string())?;
            let enc = ItemEncryptor::new(shape.table.encryptor_config(Arc::new(keyring)))
                .map_err(|e| e.to_string())?;
            let sealed = block_on(enc.encrypt_item(&shape.input)).map_err(|e| e.to_string())?;
            check(
                &shape,
                &block_on(enc.decrypt_item(&sealed)).map_err(|e| e.to_string())?,
            )
        },
    );
    let mut node_work = Vec::new();
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa4096] {
        let name = spec.as_str().to_owned();
        let Some(arn) = r.case(
            &format!("setup: {name} ENCRYPT_DECRYPT key in moto"),
            || block_on(create_rsa_key(&endpoint, spec.clone())),
        ) else {
            continue;
        };
        let Some(pem) = r.case(&format!("{name}: fieldseal get_public_key_pem"), || {
            let pem =
                block_on(get_public_key_pem(&sdk(), &arn, vec![])).map_err(|e| e.to_string())?;
            ensure(pem.starts_with("-----BEGIN PUBLIC KEY-----"), || {
                format!("not a PEM: {pem}")
            })?;
            Ok(pem)
        }) else {
            continue;
        };
        for algorithm in ALGORITHMS {
            let tag = format!("{name} {algorithm} 0x6700");
            // fieldseal seals with only the public key: it has no client to call.
            let fs_sealed = r.case(&format!("{tag}: fieldseal seals with only the PEM"), || {
                let keyring = AwsKmsRsaKeyring::new(&arn, algorithm, Some(&pem), None, vec![])
                    .map_err(|e| e.to_string())?;
                block_on(fs_encryptor(&shape, keyring)?.encrypt_item(&shape.input))
                    .map_err(|e| format!("fieldseal encrypt: {e}"))
            });
            if let Some(sealed) = &fs_sealed {
                r.case(&format!("{tag}: fieldseal -> official opens"), || {
                    let c = official_encryptor(&shape, &endpoint, &arn, &pem, algorithm)?;
                    let got = block_on(official::decrypt(&c, sealed))?;
                    check(&shape, &got)
                });
                let other = ALGORITHMS.into_iter().find(|a| *a != algorithm).unwrap();
                r.case(
                    &format!("{tag}: fieldseal -> official with {other} fails"),
                    || {
                        let c = official_encryptor(&shape, &endpoint, &arn, &pem, other)?;
                        match block_on(official::decrypt(&c, sealed)) {
                            Ok(_) => {
                                Err("the official SDK opened it with the wrong algorithm".into())
                            }
                            Err(e) => ensure(e.contains("InvalidCiphertextException"), || {
                                format!("failed, but not because KMS refused the ciphertext: {e}")
                            }),
                        }
                    },
                );
            }
            let off_sealed = r.case(&format!("{tag}: official seals"), || {
                let c = official_encryptor(&shape, &endpoint, &arn, &pem, algorithm)?;
                block_on(official::encrypt(&c, &shape.input))
            });
            node_work.push(NodeWork {
                tag: tag.clone(),
                arn: arn.clone(),
                pem: pem.clone(),
                algorithm,
                official_sealed: off_sealed.clone(),
            });
            if let Some(sealed) = &off_sealed {
                r.case(
                    &format!("{tag}: official -> fieldseal opens with one Decrypt"),
                    || {
                        let client = Arc::new(Counting {
                            inner: sdk(),
                            decrypts: AtomicUsize::new(0),
                            algorithms: Default::default(),
                        });
                        let keyring = AwsKmsRsaKeyring::new(
                            &arn,
                            algorithm,
                            None,
                            Some(client.clone()),
                            vec![],
                        )
                        .map_err(|e| e.to_string())?;
                        let got = block_on(fs_encryptor(&shape, keyring)?.decrypt_item(sealed))
                            .map_err(|e| format!("fieldseal decrypt: {e}"))?;
                        check(&shape, &got)?;
                        let calls = client.decrypts.load(Ordering::SeqCst);
                        let algorithms = client.algorithms.lock().unwrap().clone();
                        ensure(calls == 1 && algorithms == [Some(algorithm)], || {
                            format!("expected one Decrypt with {algorithm}, got {calls}: {algorithms:?}")
                        })
                    },
                );
                let other = ALGORITHMS.into_iter().find(|a| *a != algorithm).unwrap();
                r.case(
                    &format!("{tag}: official -> fieldseal with {other} is INTEGRITY_FAILURE"),
                    || {
                        let keyring =
                            AwsKmsRsaKeyring::new(&arn, other, None, Some(Arc::new(sdk())), vec![])
                                .map_err(|e| e.to_string())?;
                        match block_on(fs_encryptor(&shape, keyring)?.decrypt_item(sealed)) {
                            Ok(_) => Err("fieldseal opened it with the wrong algorithm".into()),
                            Err(e) => ensure(
                                e.code() == "INTEGRITY_FAILURE"
                                    && e.to_string().contains("InvalidCiphertextException"),
                                || format!("expected INTEGRITY_FAILURE, got {}: {e}", e.code()),
                            ),
                        }
                    },
                );
            }
        }
    }
    npm_package_cases(r, &endpoint, &shape, &node_work);
}

/// One key and algorithm for the npm package's cases.
struct NodeWork {
    tag: String,
    arn: String,
    pem: String,
    algorithm: EncryptionAlgorithm,
    /// What the official KMS RSA keyring sealed (None: it failed, reported above).
    official_sealed: Option<Item>,
}

/// The same both ways through the npm package in Node
/// (tests/js/tools/kms-rsa-interop.mjs, one run for every case): it seals
/// with a PEM-only `AwsKmsRsaKeyring` (after `getPublicKeyPem`) and opens the
/// official's records with a client-only one; the official opens its records.
fn npm_package_cases(r: &mut Runner, endpoint: &Endpoint, shape: &Shape, work: &[NodeWork]) {
    if let Err(why) = npm::package_ready() {
        r.cannot_run(
            why,
            "The npm package's cases (fieldseal/kms in Node <-> official)",
            "npm: the npm package can run here (pkg/dist built, node installed)",
            "npm: the npm package's cases in Node",
        );
        return;
    }
    let mut cases = Vec::new();
    // (index in OUT.json, what it is) per work item: seal, open, open with the other algorithm.
    let mut index = Vec::new();
    for w in work {
        let other = ALGORITHMS.into_iter().find(|a| *a != w.algorithm).unwrap();
        let seal = cases.len();
        cases.push(json!({
            "label": format!("{}: seal", w.tag), "op": "seal", "kmsKeyArn": w.arn,
            "encryptionAlgorithm": w.algorithm.name(), "item": item_to_json(&shape.input),
        }));
        let open = w.official_sealed.as_ref().map(|sealed| {
            cases.push(json!({
                "label": format!("{}: open", w.tag), "op": "open", "kmsKeyArn": w.arn,
                "encryptionAlgorithm": w.algorithm.name(), "item": item_to_json(sealed),
            }));
            cases.push(json!({
                "label": format!("{}: open with {other}", w.tag), "op": "open", "kmsKeyArn": w.arn,
                "encryptionAlgorithm": other.name(), "item": item_to_json(sealed),
            }));
            cases.len() - 2
        });
        index.push((seal, open, other));
    }
    let input = json!({
        "endpoint": endpoint.url, "region": REGION,
        "accessKeyId": endpoint.access_key_id, "secretAccessKey": endpoint.secret_access_key,
        "config": npm::encryptor_config_json(&shape.table),
        "cases": cases,
    });
    let Some(run) = r.case("npm: node tests/js/tools/kms-rsa-interop.mjs ran", || {
        npm::run_tool("kms-rsa-interop.mjs", &input)
    }) else {
        return;
    };
    let result = |i: usize| -> Result<&Value, String> {
        let label = cases[i]["label"].as_str().unwrap();
        npm::tool_result(&run.output, "results", i, label, "the npm package")
            .map_err(|e| format!("{e}\n{}", run.log))
    };
    let calls = |v: &Value, field: &str| -> Vec<String> {
        v.get(field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("(no {field})")])
    };
    for (w, (seal, open, other)) in work.iter().zip(index) {
        let tag = &w.tag;
        let node_sealed = r.case(
            &format!("{tag}: npm seals with only the PEM (GetPublicKey once, then 0 KMS calls)"),
            || {
                let v = result(seal)?;
                let (fetch, kms) = (calls(v, "fetchCalls"), calls(v, "kmsCalls"));
                ensure(fetch == ["GetPublicKey"] && kms.is_empty(), || {
                    format!("fetchCalls {fetch:?}, kmsCalls while sealing {kms:?}")
                })?;
                item_from_json(v.get("item").ok_or("no item")?)
            },
        );
        if let Some(sealed) = &node_sealed {
            r.case(&format!("{tag}: npm -> official opens"), || {
                let c = official_encryptor(shape, endpoint, &w.arn, &w.pem, w.algorithm)?;
                let got = block_on(official::decrypt(&c, sealed))?;
                check(shape, &got)
            });
            r.case(&format!("{tag}: npm -> fieldseal (Rust) opens"), || {
                let keyring = AwsKmsRsaKeyring::new(
                    &w.arn,
                    w.algorithm,
                    None,
                    Some(Arc::new(SdkKms {
                        client: kms_client(endpoint, REGION),
                    })),
                    vec![],
                )
                .map_err(|e| e.to_string())?;
                let got = block_on(fs_encryptor(shape, keyring)?.decrypt_item(sealed))
                    .map_err(|e| format!("fieldseal decrypt: {e}"))?;
                check(shape, &got)
            });
        }
        let Some(open) = open else { continue };
        r.case(
            &format!("{tag}: official -> npm opens with one Decrypt"),
            || {
                let v = result(open)?;
                let kms = calls(v, "kmsCalls");
                ensure(kms == [format!("Decrypt {}", w.algorithm)], || {
                    format!("kmsCalls {kms:?}")
                })?;
                check(shape, &item_from_json(v.get("item").ok_or("no item")?)?)
            },
        );
        r.case(
            &format!("{tag}: official -> npm with {other} is INTEGRITY_FAILURE"),
            || {
                let v = run
                    .output
                    .get("results")
                    .and_then(|l| l.get(open + 1))
                    .ok_or("OUT.json: no result")?;
                ensure(
                    v.get("ok") == Some(&Value::Bool(false))
                        && v.get("code").and_then(Value::as_str) == Some("INTEGRITY_FAILURE"),
                    || format!("expected INTEGRITY_FAILURE, got {v}"),
                )
            },
        );
    }
}
