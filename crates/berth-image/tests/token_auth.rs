//! The `WWW-Authenticate: Bearer` token flow against a real `docker-registry` configured
//! for token auth, with a small token server in the test: tokens are RS256 JWTs signed by
//! `openssl` with a self-signed certificate the registry trusts.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use berth_image::Reference;
use berth_image::registry::{
    Client, ClientOptions, Credentials, PullOptions, PushOptions, RegistryError, Session,
};
use berth_image::store::ImageStore;
use common::*;

fn openssl(args: &[&str]) -> Vec<u8> {
    let bin = which("openssl")
        .unwrap_or_else(|| panic!("openssl is not installed: apt-get install openssl"));
    let out = Command::new(bin).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

struct TokenServer {
    port: u16,
    /// The scopes asked for, one entry per token request.
    scopes: Arc<Mutex<Vec<String>>>,
}

/// Serves `GET /token?service=..&scope=..` for user alice:s3cret only.
fn token_server(dir: &Path) -> TokenServer {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "2",
        "-subj",
        "/CN=berth-test-token",
    ]);
    let der = openssl(&["x509", "-in", cert.to_str().unwrap(), "-outform", "DER"]);
    let x5c = STANDARD.encode(der);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let seen = scopes.clone();
    let dir: PathBuf = dir.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                let good = format!("Basic {}", STANDARD.encode("alice:s3cret"));
                if line.to_ascii_lowercase().starts_with("authorization:")
                    && line[14..].trim() == good
                {
                    authorized = true;
                }
            }
            let query = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .split_once('?')
                .map(|x| x.1)
                .unwrap_or("")
                .to_owned();
            let mut access = Vec::new();
            for kv in query.split('&') {
                if let Some(v) = kv.strip_prefix("scope=") {
                    let v = v
                        .replace("%3A", ":")
                        .replace("%2F", "/")
                        .replace("%2C", ",");
                    seen.lock().unwrap().push(v.clone());
                    let parts: Vec<&str> = v.split(':').collect();
                    if parts.len() == 3 {
                        access.push(serde_json::json!({"type": parts[0], "name": parts[1], "actions": parts[2].split(',').collect::<Vec<_>>()}));
                    }
                }
            }
            if !authorized {
                let _ = stream.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
            let claims = serde_json::json!({"iss": "berth-test-issuer", "sub": "alice", "aud": "berth-test", "exp": now + 600, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()), "access": access});
            let signing_input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let input = dir.join("input");
            std::fs::write(&input, &signing_input).unwrap();
            let sig = openssl(&[
                "dgst",
                "-sha256",
                "-sign",
                dir.join("key.pem").to_str().unwrap(),
                input.to_str().unwrap(),
            ]);
            let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
            let body = serde_json::json!({"token": token}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    TokenServer { port, scopes }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_flow_push_and_pull() {
    let dir = tempfile::tempdir().unwrap();
    let ts = token_server(dir.path());
    let auth = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
        ts.port,
        dir.path().join("cert.pem").display()
    );
    let reg = Registry::start_with_auth(&auth);
    let src_root = tempfile::tempdir().unwrap();
    let src = Arc::new(ImageStore::open(src_root.path()).unwrap());
    let id = make_image(&src, "local/img:v1");
    let target: Reference = format!("{}/tok/img:v1", reg.host()).parse().unwrap();
    let client = Client::new(ClientOptions::default()).unwrap();
    // Without credentials the token server refuses.
    let err = client
        .push(
            src.clone(),
            "local/img:v1",
            &target,
            &PushOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    let bad = Credentials {
        username: "alice".into(),
        password: "nope".into(),
    };
    let err = Session::login(&client, &reg.host(), bad).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    // moby's words for a token realm's refusal.
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "Get \"http://{}/v2/\": unauthorized: authentication required",
            reg.host()
        )
    );
    let good = Credentials {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    Session::login(&client, &reg.host(), good).await.unwrap();
    let creds = Some(Credentials {
        username: "alice".into(),
        password: "s3cret".into(),
    });
    let opts = PushOptions {
        credentials: creds.clone(),
        chunk_size: 64 * 1024,
        ..PushOptions::default()
    };
    client
        .push(src.clone(), "local/img:v1", &target, &opts, &recorder().0)
        .await
        .unwrap();
    assert!(
        ts.scopes
            .lock()
            .unwrap()
            .iter()
            .any(|s| s == "repository:tok/img:pull,push"),
        "{:?}",
        ts.scopes.lock().unwrap()
    );
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let opts = PullOptions {
        credentials: creds,
        ..PullOptions::default()
    };
    let res = client
        .pull(store.clone(), &target, &opts, &recorder().0)
        .await
        .unwrap();
    assert_eq!(res.id, id);
    check_files(&store, &id);
    assert!(
        ts.scopes
            .lock()
            .unwrap()
            .iter()
            .any(|s| s == "repository:tok/img:pull")
    );
}
