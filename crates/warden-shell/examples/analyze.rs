//! Prints the analysis of each argument: `cargo run -p warden-shell --example analyze -- 'rm -rf /'`.
fn main() {
    for cmd in std::env::args().skip(1) {
        let a = warden_shell::analyze(&cmd);
        print!("{}", a.render());
        for h in warden_shell::packs::evaluate(&a, &warden_shell::packs::PackSelection::all()) {
            println!("  pack {:?} {} <- {}", h.decision, h.rule, h.text);
        }
        println!("--");
    }
}
