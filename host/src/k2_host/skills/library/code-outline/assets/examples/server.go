package server

import (
	"fmt"
	"net/http"
)

// Server serves the cart API.
type Server struct {
	addr  string
	carts map[string]*Cart
}

type Handler interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request)
}

type ID string

func New(addr string) *Server {
	return &Server{addr: addr, carts: map[string]*Cart{}}
}

func (s *Server) Start() error {
	mux := http.NewServeMux()
	mux.HandleFunc("/cart/{id}", s.handleCart)
	return http.ListenAndServe(s.addr, mux)
}

func (s *Server) handleCart(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.carts[id]; !ok {
		http.Error(w, "no cart }", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "cart %s", id)
}
