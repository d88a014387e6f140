//! A bare actix-web server: one handler answering a constant JSON body of
//! about the size of a job's, on as many workers as the service uses. It is
//! the floor `benches/http.sh` compares each request of the service with.
//! Given a size in bytes, it answers a constant JSON body of that size
//! instead: the floor of an answer as long as a page of a list.
//!
//! `bench-bare 127.0.0.1:18500 [BYTES]`

use actix_web::{App, HttpResponse, HttpServer, web};

const BODY: &str = r#"{"status":"ok","service":"bare","note":"a constant body of a few hundred bytes, as a small JSON answer of the service","items":[1,2,3,4,5,6,7,8,9,10]}"#;

/// A JSON body of `bytes` bytes (at least `BODY`'s): `BODY` with its note
/// padded.
fn body_of(bytes: usize) -> String {
    let pad = bytes.saturating_sub(BODY.len());
    BODY.replacen(
        "a constant body",
        &format!("a constant body{}", "x".repeat(pad)),
        1,
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18500".to_owned());
    let body: &'static str = match args.next() {
        Some(bytes) => match bytes.parse::<usize>() {
            Ok(n) => Box::leak(body_of(n).into_boxed_str()),
            Err(_) => {
                eprintln!("bench-bare: the body size must be a number of bytes, not {bytes:?}");
                std::process::exit(2);
            }
        },
        None => BODY,
    };
    HttpServer::new(move || {
        App::new().default_service(web::to(move || async move {
            HttpResponse::Ok()
                .content_type("application/json")
                .body(body)
        }))
    })
    .bind(bind)?
    .run()
    .await
}
