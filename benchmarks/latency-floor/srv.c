#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static void* h(void*a){int fd=(long)a;char b[8192];const char*r="HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";int l=strlen(r);int acc=0;
while(1){int n=recv(fd,b+acc,sizeof b-acc,0);if(n<=0)return 0;acc+=n;char*p=b;char*e;while((e=memmem(p,acc-(p-b),"\r\n\r\n",4))){send(fd,r,l,0);p=e+4;}acc-=p-b;memmove(b,p,acc);}}
int main(int c,char**v){int s=socket(AF_INET,SOCK_STREAM,0);int one=1;setsockopt(s,SOL_SOCKET,SO_REUSEADDR,&one,4);struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(atoi(v[1]))};inet_pton(AF_INET,"127.0.0.1",&a.sin_addr);bind(s,(void*)&a,sizeof a);listen(s,128);
while(1){int fd=accept(s,0,0);setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,4);pthread_t t;pthread_create(&t,0,h,(void*)(long)fd);}}
